DROP INDEX "algos_recording_type_version_idx";--> statement-breakpoint
DROP INDEX "event_log_user_id_ts_idx";--> statement-breakpoint
DROP INDEX "event_log_session_id_idx";--> statement-breakpoint
DROP INDEX "event_log_event_type_idx";--> statement-breakpoint
DROP INDEX "event_log_ts_idx";--> statement-breakpoint
DROP INDEX "recordings_user_id_idx";--> statement-breakpoint
DROP INDEX "recordings_recording_type_idx";--> statement-breakpoint
DROP INDEX "sessions_user_id_idx";--> statement-breakpoint
DROP INDEX "sessions_ts_start_idx";--> statement-breakpoint
CREATE INDEX "users_created_key_idx" ON "users" USING btree ("created_at","user_id");--> statement-breakpoint
CREATE INDEX "algos_created_key_idx" ON "algos" USING btree ("created_at","algo_id");--> statement-breakpoint
CREATE INDEX "algos_recording_type_created_idx" ON "algos" USING btree ("recording_type","created_at","algo_id");--> statement-breakpoint
CREATE INDEX "algos_version_created_idx" ON "algos" USING btree ("version","created_at","algo_id");--> statement-breakpoint
CREATE INDEX "event_log_ts_key_idx" ON "event_log" USING btree ("ts","event_id");--> statement-breakpoint
CREATE INDEX "event_log_user_id_ts_key_idx" ON "event_log" USING btree ("user_id","ts","event_id");--> statement-breakpoint
CREATE INDEX "event_log_session_id_ts_key_idx" ON "event_log" USING btree ("session_id","ts","event_id");--> statement-breakpoint
CREATE INDEX "event_log_event_type_ts_key_idx" ON "event_log" USING btree ("event_type","ts","event_id");--> statement-breakpoint
CREATE INDEX "event_log_event_source_ts_key_idx" ON "event_log" USING btree ("event_source","ts","event_id");--> statement-breakpoint
CREATE INDEX "recordings_created_key_idx" ON "recordings" USING btree ("created_at","recording_id");--> statement-breakpoint
CREATE INDEX "recordings_user_id_created_idx" ON "recordings" USING btree ("user_id","created_at","recording_id");--> statement-breakpoint
CREATE INDEX "recordings_type_created_idx" ON "recordings" USING btree ("recording_type","created_at","recording_id");--> statement-breakpoint
CREATE INDEX "recordings_created_session_id_idx" ON "recordings" USING btree ("created_session_id");--> statement-breakpoint
CREATE INDEX "sessions_ts_start_key_idx" ON "sessions" USING btree ("ts_start","session_id");--> statement-breakpoint
CREATE INDEX "sessions_user_id_ts_idx" ON "sessions" USING btree ("user_id","ts_start","session_id");--> statement-breakpoint
CREATE INDEX "sessions_device_type_ts_idx" ON "sessions" USING btree ("device_type","ts_start","session_id");--> statement-breakpoint
CREATE INDEX "sessions_device_os_ts_idx" ON "sessions" USING btree ("device_os","ts_start","session_id");--> statement-breakpoint
CREATE INDEX "sessions_region_ts_idx" ON "sessions" USING btree ("region","ts_start","session_id");--> statement-breakpoint
CREATE INDEX "sessions_app_version_ts_idx" ON "sessions" USING btree ("app_version","ts_start","session_id");