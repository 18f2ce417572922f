-- Commerce's foreign keys to the users table, written by hand so that the commerce module never
-- imports the users module's tables (docs/commerce.md). Deleting an account deletes its stores, their
-- products and its recorded product views: every vendor has a store, so a restricting key would make
-- every vendor account undeletable.
ALTER TABLE "stores" ADD CONSTRAINT "stores_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "public"."users"("id") ON DELETE cascade;
--> statement-breakpoint
ALTER TABLE "product_views" ADD CONSTRAINT "product_views_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade;
