// The facts commerce publishes for other modules (the recommendations module consumes them), with
// their payloads; docs/commerce.md says when each is published. A consumer imports these types only.

/** The internal facts commerce publishes (payloads in docs/commerce.md). */
export const COMMERCE_FACTS = {
  productCreated: 'product.created',
  productUpdated: 'product.updated',
  productDeleted: 'product.deleted',
  productViewed: 'product.viewed',
} as const;

/** product.created / product.updated / product.deleted */
export interface ProductFact {
  product_id: number;
  name: string;
  category: string;
  price: string;
  description: string;
  store_id: number;
  owner_id: number;
  occurred_at: string;
}

/** product.viewed: a user's first view of a product (once per user and product, ever). */
export interface ProductViewedFact {
  product_id: number;
  user_id: number;
  name: string;
  category: string;
  viewed_at: string;
}
