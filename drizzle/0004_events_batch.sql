-- events_ingest_batch: many events in one statement and one transaction (docs/events.md, "Hot path").
-- The server gathers the events that arrive while earlier statements are in flight and sends them
-- together; each event goes through events_ingest exactly as if it came alone, so the rules have one
-- implementation. Returns a JSON array with events_ingest's answer for each event, in input order
-- (null for an unknown user).
--
-- Locks: events_ingest locks each user's row until the transaction ends. Events are taken in the order
-- of their user id, then of their position in the batch (the order they arrived in), so every batch
-- and every single call takes the locks of several users in one global order and two batches cannot
-- deadlock; the events of one user keep their arrival order.
--
-- lock_timeout: a batch holds up every event of its lane, so it does not wait more than 10 s for a
-- user's row that another transaction holds (a long delete, say): it fails with 55P03, the server
-- runs its events again one by one, and only that user's event answers 503.
CREATE OR REPLACE FUNCTION "events_ingest_batch"(p_users text[], p_types text[], p_amounts numeric[], p_times bigint[], p_create boolean, p_notify boolean)
RETURNS json LANGUAGE plpgsql
SET lock_timeout = '10s'
AS $$
DECLARE
  v_out json[] := array_fill(NULL::json, ARRAY[cardinality(p_users)]);
  v_i int;
BEGIN
  IF cardinality(p_types) <> cardinality(p_users) OR cardinality(p_amounts) <> cardinality(p_users) OR cardinality(p_times) <> cardinality(p_users) THEN
    RAISE EXCEPTION 'events_ingest_batch: the four arrays must have the same length' USING ERRCODE = '22023';
  END IF;
  FOR v_i IN SELECT u.ord FROM unnest(p_users) WITH ORDINALITY AS u(id, ord) ORDER BY u.id COLLATE "C", u.ord LOOP
    v_out[v_i] := events_ingest(p_users[v_i], p_types[v_i], p_amounts[v_i], p_times[v_i], p_create, p_notify);
  END LOOP;
  RETURN array_to_json(v_out);
END
$$;
