ALTER TABLE "alerts" ADD COLUMN "event_time" bigint;--> statement-breakpoint
-- Hand-written from here (keep when regenerating): existing alerts take their event's time, then the
-- column is required; events_ingest (0003) is redefined with its one change, the alert's event_time.
UPDATE "alerts" a SET "event_time" = e."time" FROM "alert_events" e WHERE e."seq" = a."event_seq";--> statement-breakpoint
ALTER TABLE "alerts" ALTER COLUMN "event_time" SET NOT NULL;--> statement-breakpoint
CREATE INDEX "alerts_time_idx" ON "alerts" USING btree ("event_time","event_seq","id");--> statement-breakpoint
CREATE INDEX "alerts_user_time_idx" ON "alerts" USING btree ("user_id","event_time","event_seq","id");--> statement-breakpoint
-- events_ingest as in 0003 (see its comments), storing the event's time with each alert it raises.
CREATE OR REPLACE FUNCTION "events_ingest"(p_user text, p_type text, p_amount numeric, p_time bigint, p_create boolean, p_notify boolean)
RETURNS json LANGUAGE plpgsql
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  v_uid bigint;
  v_seq bigint;
  v_at timestamptz;
  v_amount numeric(14, 2) := p_amount;
  r_id bigint[]; r_code int[]; r_version int[]; r_kind text[]; r_params jsonb[];
  v_any_n int := 0; v_own_n int := 0; v_win bigint := -1; v_n int; v_i int; v_k int;
  v_any_types text[]; v_any_amounts numeric[]; v_own_amounts numeric[]; v_amts numeric[];
  v_sum numeric; v_cnt bigint; v_w bigint; v_wsum numeric; v_wcnt bigint;
  v_fire boolean; v_op text; v_a numeric; v_b numeric;
  f_id bigint[] := '{}'; f_code int[] := '{}'; f_version int[] := '{}';
  v_alerts json;
  v_out json;
BEGIN
  -- Lock the user's row and store the event in one statement: seq is assigned under the lock.
  INSERT INTO alert_events (user_id, type, amount, time)
    SELECT u.id, p_type, v_amount, p_time FROM users u WHERE u.user_id = p_user FOR NO KEY UPDATE
    RETURNING alert_events.seq, alert_events.created_at, alert_events.user_id INTO v_seq, v_at, v_uid;
  IF v_seq IS NULL THEN
    IF NOT p_create THEN
      RETURN NULL;
    END IF;
    INSERT INTO users (user_id) VALUES (p_user) ON CONFLICT (user_id) DO NOTHING;
    INSERT INTO alert_events (user_id, type, amount, time)
      SELECT u.id, p_type, v_amount, p_time FROM users u WHERE u.user_id = p_user FOR NO KEY UPDATE
      RETURNING alert_events.seq, alert_events.created_at, alert_events.user_id INTO v_seq, v_at, v_uid;
  END IF;
  SELECT array_agg(r.id ORDER BY r.priority, r.code), array_agg(r.code ORDER BY r.priority, r.code),
         array_agg(r.version ORDER BY r.priority, r.code), array_agg(r.kind ORDER BY r.priority, r.code),
         array_agg(r.params ORDER BY r.priority, r.code)
    INTO r_id, r_code, r_version, r_kind, r_params
    FROM alert_rules r WHERE r.enabled AND r.event_type = p_type;
  IF r_id IS NOT NULL THEN
    -- What the history queries must fetch: the longest run of each consecutive flavour, one window.
    FOR v_k IN 1 .. cardinality(r_id) LOOP
      IF r_kind[v_k] = 'consecutive' THEN
        v_n := (r_params[v_k]->>'count')::int;
        IF (r_params[v_k]->>'ignore_other_types')::boolean THEN
          v_own_n := greatest(v_own_n, v_n);
        ELSE
          v_any_n := greatest(v_any_n, v_n);
        END IF;
      ELSIF (r_kind[v_k] = 'window_sum' OR r_kind[v_k] = 'window_count') AND v_win < 0 THEN
        v_win := (r_params[v_k]->>'window_seconds')::bigint;
      END IF;
    END LOOP;
    IF v_any_n > 0 OR v_own_n > 0 OR v_win >= 0 THEN
      SELECT
        (SELECT array_agg(x.type) FROM (SELECT e.type FROM alert_events e WHERE e.user_id = v_uid AND e.time <= p_time ORDER BY e.time DESC, e.seq DESC LIMIT v_any_n) x),
        (SELECT array_agg(x.amount) FROM (SELECT e.amount FROM alert_events e WHERE e.user_id = v_uid AND e.time <= p_time ORDER BY e.time DESC, e.seq DESC LIMIT v_any_n) x),
        (SELECT array_agg(x.amount) FROM (SELECT e.amount FROM alert_events e WHERE e.user_id = v_uid AND e.type = p_type AND e.time <= p_time ORDER BY e.time DESC, e.seq DESC LIMIT v_own_n) x),
        w.s, w.c
        INTO v_any_types, v_any_amounts, v_own_amounts, v_sum, v_cnt
        FROM (SELECT coalesce(sum(e.amount), 0) AS s, count(*) AS c FROM alert_events e
              WHERE e.user_id = v_uid AND e.type = p_type AND e.time BETWEEN p_time - v_win AND p_time) w;
    END IF;
    FOR v_k IN 1 .. cardinality(r_id) LOOP
      v_op := NULL;
      IF r_kind[v_k] = 'threshold' THEN
        v_op := r_params[v_k]->>'op'; v_a := v_amount; v_b := (r_params[v_k]->>'amount')::numeric;
      ELSIF r_kind[v_k] = 'consecutive' THEN
        v_n := (r_params[v_k]->>'count')::int;
        IF (r_params[v_k]->>'ignore_other_types')::boolean THEN
          v_amts := v_own_amounts;
          v_fire := coalesce(cardinality(v_amts), 0) >= v_n;
        ELSE
          v_amts := v_any_amounts;
          v_fire := coalesce(cardinality(v_any_types), 0) >= v_n;
          v_i := 1;
          WHILE v_fire AND v_i <= v_n LOOP
            v_fire := v_any_types[v_i] = p_type;
            v_i := v_i + 1;
          END LOOP;
        END IF;
        IF v_fire AND (r_params[v_k]->>'strictly_increasing')::boolean THEN
          v_i := 1;   -- newest first: each amount exceeds the one before it in time
          WHILE v_fire AND v_i < v_n LOOP
            v_fire := v_amts[v_i] > v_amts[v_i + 1];
            v_i := v_i + 1;
          END LOOP;
        END IF;
      ELSIF r_kind[v_k] = 'window_sum' OR r_kind[v_k] = 'window_count' THEN
        v_w := (r_params[v_k]->>'window_seconds')::bigint;
        IF v_w = v_win THEN
          v_wsum := v_sum; v_wcnt := v_cnt;
        ELSE   -- a second window length for this type: its own query
          SELECT coalesce(sum(e.amount), 0), count(*) INTO v_wsum, v_wcnt FROM alert_events e
            WHERE e.user_id = v_uid AND e.type = p_type AND e.time BETWEEN p_time - v_w AND p_time;
        END IF;
        v_op := r_params[v_k]->>'op';
        IF r_kind[v_k] = 'window_sum' THEN
          v_a := v_wsum; v_b := (r_params[v_k]->>'amount')::numeric;
        ELSE
          v_a := v_wcnt; v_b := (r_params[v_k]->>'count')::numeric;
        END IF;
      ELSE
        v_fire := false;
      END IF;
      IF v_op IS NOT NULL THEN
        v_fire := CASE v_op WHEN '>' THEN v_a > v_b WHEN '>=' THEN v_a >= v_b WHEN '<' THEN v_a < v_b WHEN '<=' THEN v_a <= v_b ELSE false END;
      END IF;
      IF v_fire THEN
        f_id := f_id || r_id[v_k]; f_code := f_code || r_code[v_k]; f_version := f_version || r_version[v_k];
      END IF;
    END LOOP;
  END IF;
  IF cardinality(f_id) > 0 THEN
    WITH ins AS (
      INSERT INTO alerts (event_seq, event_time, user_id, rule_id, code, rule_version)
      SELECT v_seq, p_time, v_uid, f.id, f.code, f.version FROM unnest(f_id, f_code, f_version) WITH ORDINALITY AS f(id, code, version, ord) ORDER BY f.ord
      RETURNING alerts.id, alerts.rule_id, alerts.code, alerts.rule_version
    )
    SELECT json_agg(json_build_object('id', i.id, 'rule_id', i.rule_id, 'code', i.code, 'rule_version', i.rule_version) ORDER BY i.id)
      INTO v_alerts FROM ins i;
  END IF;
  v_out := json_build_object('seq', v_seq, 'user_id', p_user, 'type', p_type, 'amount', v_amount::text, 'time', p_time,
    'created_at', v_at, 'alerts', coalesce(v_alerts, '[]'::json));
  IF p_notify AND v_alerts IS NOT NULL THEN
    PERFORM pg_notify('arbiter_alerts', v_out::text);
  END IF;
  RETURN v_out;
END
$$;
