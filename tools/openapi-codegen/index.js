// The TypeScript types of an OpenAPI document, as openapi-typescript writes them (a `paths` interface
// for openapi-fetch). openapi-typescript resolves `typescript` from here: TypeScript 5.
import openapiTS, { astToString } from 'openapi-typescript';

export async function generateTypes(document) {
  return astToString(await openapiTS(document));
}
