-- A dataset's rows move from two jsonb values to parts of bytea in network byte order (float8send /
-- int4send's): see models.tables.ts. Each existing dataset becomes one part, row-major, in the order
-- of its arrays; new ones are written in parts of a few hundred KB.
CREATE TABLE "ml_dataset_parts" (
	"dataset_id" text NOT NULL,
	"part" integer NOT NULL,
	"x" bytea NOT NULL,
	"y" bytea NOT NULL,
	CONSTRAINT "ml_dataset_parts_dataset_id_part_pk" PRIMARY KEY("dataset_id","part")
);
--> statement-breakpoint
ALTER TABLE "ml_dataset_parts" ADD CONSTRAINT "ml_dataset_parts_dataset_id_ml_datasets_id_fk" FOREIGN KEY ("dataset_id") REFERENCES "public"."ml_datasets"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Compressing doubles gains little and would cost the embedded database's thread (the event loop's).
ALTER TABLE "ml_dataset_parts" ALTER COLUMN "x" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "ml_dataset_parts" ALTER COLUMN "y" SET STORAGE EXTERNAL;--> statement-breakpoint
INSERT INTO "ml_dataset_parts" ("dataset_id", "part", "x", "y")
SELECT d."id", 0,
  coalesce((
    SELECT string_agg(float8send(v.value::float8), ''::bytea ORDER BY r.i, v.j)
    FROM jsonb_array_elements(d."x") WITH ORDINALITY AS r(value, i), jsonb_array_elements(r.value) WITH ORDINALITY AS v(value, j)
  ), ''::bytea),
  coalesce((
    SELECT string_agg(int4send(e.value::int4), ''::bytea ORDER BY e.i)
    FROM jsonb_array_elements(d."y") WITH ORDINALITY AS e(value, i)
  ), ''::bytea)
FROM "ml_datasets" d;--> statement-breakpoint
ALTER TABLE "ml_datasets" DROP COLUMN "x";--> statement-breakpoint
ALTER TABLE "ml_datasets" DROP COLUMN "y";
