-- Datasets' numbers as bytes in network byte order (float8send / int4send's), not jsonb: see
-- models.tables.ts. Existing rows are converted here, row-major, in the order of their arrays
-- (a column's USING cannot hold a subquery, hence new columns).
ALTER TABLE "ml_datasets" ADD COLUMN "x_bytes" bytea;--> statement-breakpoint
ALTER TABLE "ml_datasets" ADD COLUMN "y_bytes" bytea;--> statement-breakpoint
UPDATE "ml_datasets" SET
  "x_bytes" = coalesce((
    SELECT string_agg(float8send(v.value::float8), ''::bytea ORDER BY r.i, v.j)
    FROM jsonb_array_elements("x") WITH ORDINALITY AS r(value, i), jsonb_array_elements(r.value) WITH ORDINALITY AS v(value, j)
  ), ''::bytea),
  "y_bytes" = coalesce((
    SELECT string_agg(int4send(e.value::int4), ''::bytea ORDER BY e.i)
    FROM jsonb_array_elements("y") WITH ORDINALITY AS e(value, i)
  ), ''::bytea);--> statement-breakpoint
ALTER TABLE "ml_datasets" DROP COLUMN "x";--> statement-breakpoint
ALTER TABLE "ml_datasets" DROP COLUMN "y";--> statement-breakpoint
ALTER TABLE "ml_datasets" RENAME COLUMN "x_bytes" TO "x";--> statement-breakpoint
ALTER TABLE "ml_datasets" RENAME COLUMN "y_bytes" TO "y";--> statement-breakpoint
ALTER TABLE "ml_datasets" ALTER COLUMN "x" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "ml_datasets" ALTER COLUMN "y" SET NOT NULL;--> statement-breakpoint
-- Compressing doubles gains little and would cost the embedded database's thread (the event loop's).
ALTER TABLE "ml_datasets" ALTER COLUMN "x" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "ml_datasets" ALTER COLUMN "y" SET STORAGE EXTERNAL;
