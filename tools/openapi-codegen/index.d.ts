/** The TypeScript source of an OpenAPI 3.x document's types (`export interface paths { ... }`). */
export function generateTypes(document: object): Promise<string>;
