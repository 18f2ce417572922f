/** Thrown by predict/transform before fit, as scikit-learn's NotFittedError. */
export class NotFittedError extends Error {
  constructor(what: string) {
    super(`${what} is not fitted yet: call fit() first`);
    this.name = 'NotFittedError';
  }
}
