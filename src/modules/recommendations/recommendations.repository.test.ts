// The build's read in keyset pages returns every interaction once, in (product_id, user_id) order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openDatabase } from '../../platform/db.ts';
import { createRecommendationsRepository } from './recommendations.repository.ts';

test('trainingData pages through every interaction exactly once; deleted products are left out', async () => {
  const db = await openDatabase({ databaseUrl: null, dataDir: '/tmp', memoryDb: true, dbPoolSize: 1 });
  try {
    await db.migrate();
    const repo = createRecommendationsRepository(db, { trainingPage: 7 });
    for (const p of ['a', 'b', 'c']) await repo.upsertProduct({ product_id: p, product_name: p, category: 'x' });
    for (let u = 0; u < 10; u++) for (const p of ['a', 'b', 'c']) await repo.addInteraction({ user_id: `u${u}`, product_id: p, category: 'x' }, u % 2 ? 'api' : 'view');
    await repo.addInteraction({ user_id: 'u1', product_id: 'a', category: 'x' }, 'api');
    await repo.addInteraction({ user_id: 'u0', product_id: 'a', category: 'x' }, 'view');
    const { products, interactions } = await repo.trainingData();
    assert.equal(products.length, 3);
    assert.equal(interactions.length, 30);
    assert.equal(new Set(interactions.map((i) => `${i.product_id}|${i.user_id}`)).size, 30);
    assert.equal(interactions.find((i) => i.product_id === 'a' && i.user_id === 'u1')!.count, 2);
    assert.equal(interactions.find((i) => i.product_id === 'a' && i.user_id === 'u0')!.count, 1, 'a repeated view counts once');
    await repo.deleteProduct('b', new Date().toISOString());
    const after = await repo.trainingData();
    assert.deepEqual(after.products.map((p) => p.product_id), ['a', 'c']);
    assert.equal(after.interactions.length, 20);
  } finally {
    await db.close();
  }
});
