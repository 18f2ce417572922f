// Each route declares who may call it in `config.access`; routes without a declaration are private.
export type Access = 'public' | 'user' | 'owner' | 'admin' | 'service';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
}
