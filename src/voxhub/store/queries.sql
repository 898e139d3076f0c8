-- Named queries: one block per name, parameters written :name.
-- They run unchanged on SQLite and, with placeholders rewritten, on PostgreSQL.
-- CAST(:x AS TEXT) lets PostgreSQL type a parameter that may be NULL.

-- ping --
SELECT 1

-- data_version --
PRAGMA data_version

-- get_account_by_name --
SELECT account_id, name, created_at FROM accounts WHERE name = :name

-- insert_account --
INSERT INTO accounts (account_id, name, created_at)
VALUES (:account_id, :name, :created_at)
ON CONFLICT (name) DO NOTHING

-- insert_api_key --
INSERT INTO api_keys
    (key_id, account_id, secret_hash, name, rate_limit, read_only, created_at, revoked_at)
VALUES
    (:key_id, :account_id, :secret_hash, :name, :rate_limit, :read_only, :created_at, NULL)

-- get_api_key --
SELECT key_id, account_id, secret_hash, name, rate_limit, read_only, created_at, revoked_at
FROM api_keys WHERE key_id = :key_id

-- revoke_api_key --
UPDATE api_keys SET revoked_at = :revoked_at WHERE key_id = :key_id AND revoked_at IS NULL

-- list_api_keys --
SELECT key_id, account_id, secret_hash, name, rate_limit, read_only, created_at, revoked_at
FROM api_keys
WHERE CAST(:account_id AS TEXT) IS NULL OR account_id = :account_id
ORDER BY created_at, key_id

-- count_active_api_keys --
SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL

-- upsert_public_voice --
INSERT INTO voices
    (voice_id, account_id, engine, engine_voice, name, language, gender, locale,
     support_pause, support_locale, support_interactive_avatar, preview_key,
     status, failure_message, created_at, updated_at)
VALUES
    (:voice_id, NULL, :engine, :engine_voice, :name, :language, :gender, :locale,
     :support_pause, :support_locale, :support_interactive_avatar, :preview_key,
     NULL, NULL, NULL, :updated_at)
ON CONFLICT (voice_id) DO UPDATE SET
    engine = excluded.engine,
    engine_voice = excluded.engine_voice,
    name = excluded.name,
    language = excluded.language,
    gender = excluded.gender,
    locale = excluded.locale,
    support_pause = excluded.support_pause,
    support_locale = excluded.support_locale,
    support_interactive_avatar = excluded.support_interactive_avatar,
    updated_at = excluded.updated_at

-- delete_stale_public_voices --
DELETE FROM voices WHERE account_id IS NULL AND updated_at < :synced_at

-- insert_voice --
INSERT INTO voices
    (voice_id, account_id, engine, engine_voice, name, language, gender, locale,
     support_pause, support_locale, support_interactive_avatar, preview_key,
     status, failure_message, created_at, updated_at, profile)
VALUES
    (:voice_id, :account_id, :engine, :engine_voice, :name, :language, :gender, :locale,
     :support_pause, :support_locale, :support_interactive_avatar, :preview_key,
     :status, :failure_message, :created_at, :updated_at, :profile)

-- all_public_voices --
SELECT voice_id, account_id, engine, engine_voice, name, language, gender, locale,
       support_pause, support_locale, support_interactive_avatar, preview_key,
       status, failure_message, created_at, profile
FROM voices WHERE account_id IS NULL
ORDER BY name, voice_id

-- get_private_voice --
SELECT voice_id, account_id, engine, engine_voice, name, language, gender, locale,
       support_pause, support_locale, support_interactive_avatar, preview_key,
       status, failure_message, created_at, profile
FROM voices WHERE voice_id = :voice_id AND account_id = :account_id

-- list_voices --
SELECT voice_id, account_id, engine, engine_voice, name, language, gender, locale,
       support_pause, support_locale, support_interactive_avatar, preview_key,
       status, failure_message, created_at, profile
FROM voices
WHERE ((CAST(:account_id AS TEXT) IS NULL AND account_id IS NULL) OR account_id = :account_id)
  AND (CAST(:engine AS TEXT) IS NULL OR engine = :engine)
  AND (CAST(:language AS TEXT) IS NULL OR language = :language)
  AND (CAST(:gender AS TEXT) IS NULL OR gender = :gender)
  AND (CAST(:after_name AS TEXT) IS NULL
       OR name > :after_name
       OR (name = :after_name AND voice_id > :after_id))
ORDER BY name, voice_id
LIMIT :limit

-- insert_asset --
INSERT INTO assets
    (asset_id, account_id, name, media_type, kind, size_bytes, storage_key, created_at,
    status, checksum_sha256, upload_expires_at, batch_id, item_index, failure_message)
VALUES
    (:asset_id, :account_id, :name, :media_type, :kind, :size_bytes, :storage_key, :created_at,
     :status, :checksum_sha256, :upload_expires_at, :batch_id, :item_index, :failure_message)

-- get_asset --
SELECT asset_id, account_id, name, media_type, kind, size_bytes, storage_key, created_at,
    status, checksum_sha256, upload_expires_at, batch_id, item_index, failure_message
FROM assets WHERE asset_id = :asset_id AND account_id = :account_id

-- delete_asset --
DELETE FROM assets WHERE asset_id = :asset_id AND account_id = :account_id

-- list_assets --
-- Completed assets, newest first; after a page, those before (created_at, asset_id) of its last.
SELECT asset_id, account_id, name, media_type, kind, size_bytes, storage_key, created_at,
    status, checksum_sha256, upload_expires_at, batch_id, item_index, failure_message
FROM assets
WHERE account_id = :account_id AND status = 'completed'
  AND (CAST(:after_created AS BIGINT) IS NULL OR created_at < :after_created
       OR (created_at = :after_created AND asset_id < :after_id))
ORDER BY created_at DESC, asset_id DESC
LIMIT :limit

-- settle_asset --
UPDATE assets
SET status = CAST(:status AS TEXT), media_type = :media_type, kind = :kind,
    size_bytes = :size_bytes,
    storage_key = :storage_key, failure_message = :failure_message,
    upload_expires_at = CASE WHEN CAST(:status AS TEXT) = 'completed' THEN NULL
                             ELSE upload_expires_at END
WHERE asset_id = :asset_id AND account_id = :account_id

-- insert_asset_batch --
INSERT INTO asset_batches (batch_id, account_id, title, total_items, created_at)
VALUES (:batch_id, :account_id, :title, :total_items, :created_at)

-- get_asset_batch --
SELECT batch_id, account_id, title, total_items, created_at
FROM asset_batches WHERE batch_id = :batch_id AND account_id = :account_id

-- batch_assets --
SELECT asset_id, account_id, name, media_type, kind, size_bytes, storage_key, created_at,
    status, checksum_sha256, upload_expires_at, batch_id, item_index, failure_message
FROM assets WHERE batch_id = :batch_id AND account_id = :account_id
ORDER BY item_index

-- expired_uploads --
SELECT asset_id, account_id, name, media_type, kind, size_bytes, storage_key, created_at,
    status, checksum_sha256, upload_expires_at, batch_id, item_index, failure_message
FROM assets WHERE upload_expires_at < :cutoff AND status <> 'completed'
ORDER BY upload_expires_at
LIMIT :limit

-- claim_idempotency --
INSERT INTO idempotency (account_id, endpoint, idempotency_key, created_at, status, body)
VALUES (:account_id, :endpoint, :idempotency_key, :created_at, NULL, NULL)
ON CONFLICT (account_id, endpoint, idempotency_key) DO NOTHING

-- get_idempotency --
SELECT account_id, endpoint, idempotency_key, created_at, status, body
FROM idempotency
WHERE account_id = :account_id AND endpoint = :endpoint AND idempotency_key = :idempotency_key

-- complete_idempotency --
UPDATE idempotency SET status = :status, body = :body
WHERE account_id = :account_id AND endpoint = :endpoint AND idempotency_key = :idempotency_key

-- release_idempotency --
DELETE FROM idempotency
WHERE account_id = :account_id AND endpoint = :endpoint AND idempotency_key = :idempotency_key
  AND created_at <= :created_at

-- insert_job --
INSERT INTO jobs
    (job_id, kind, subject_id, account_id, payload, created_at, priority, state, attempts,
     lease_owner, lease_until, last_error)
VALUES
    (:job_id, :kind, :subject_id, :account_id, :payload, :created_at, :priority, :state,
     :attempts, :lease_owner, :lease_until, :last_error)
ON CONFLICT (job_id) DO NOTHING

-- get_job --
SELECT job_id, kind, subject_id, account_id, payload, created_at, priority, state, attempts,
       lease_owner, lease_until, last_error
FROM jobs WHERE job_id = :job_id

-- count_jobs --
SELECT kind, state, count(*) FROM jobs GROUP BY kind, state ORDER BY kind, state

-- count_unfinished_jobs --
SELECT count(*) FROM jobs WHERE kind = :kind AND state IN ('queued', 'running', 'dispatched')

-- ready_jobs --
SELECT job_id FROM jobs
WHERE (state = 'queued' OR (state = 'running' AND lease_until < :now))
  AND priority >= :min_priority
  AND (:kinds = '' OR (',' || :kinds || ',') LIKE ('%,' || kind || ',%'))
ORDER BY priority DESC, created_at, job_id
LIMIT 8

-- take_job --
UPDATE jobs
SET state = 'running', attempts = attempts + 1, lease_owner = :owner, lease_until = :lease_until
WHERE job_id = :job_id AND (state = 'queued' OR (state = 'running' AND lease_until < :now))

-- extend_job_lease --
UPDATE jobs SET lease_until = :lease_until
WHERE job_id = :job_id AND lease_owner = :owner AND state = 'running'

-- end_job --
UPDATE jobs SET state = :state, last_error = :last_error, lease_owner = NULL, lease_until = NULL
WHERE job_id = :job_id AND lease_owner = :owner AND state = 'running'

-- jobs_to_dispatch --
SELECT job_id, kind, subject_id, account_id, payload, created_at, priority, state, attempts,
       lease_owner, lease_until, last_error
FROM jobs WHERE state = 'queued' AND created_at < :before
ORDER BY priority DESC, created_at, job_id
LIMIT 100

-- mark_job_dispatched --
UPDATE jobs SET state = 'dispatched' WHERE job_id = :job_id AND state = 'queued'

-- record_job_outcome --
UPDATE jobs SET state = :state, last_error = :last_error, attempts = :attempts
WHERE job_id = :job_id

-- settle_voice --
UPDATE voices SET
    engine = :engine, engine_voice = :engine_voice, name = :name, language = :language,
    gender = :gender, locale = :locale, preview_key = :preview_key, status = :status,
    failure_message = :failure_message, updated_at = :updated_at, profile = :profile
WHERE voice_id = :voice_id AND status = 'processing'

-- count_private_voices --
SELECT COUNT(*) FROM voices WHERE account_id = :account_id

-- delete_jobs_of_voice --
DELETE FROM jobs WHERE subject_id = :voice_id

-- delete_private_voice --
DELETE FROM voices WHERE voice_id = :voice_id AND account_id = :account_id

-- insert_webhook_endpoint --
INSERT INTO webhook_endpoints
    (endpoint_id, account_id, url, events, status, secret, previous_secret,
     previous_secret_until, failures, created_at, updated_at)
VALUES
    (:endpoint_id, :account_id, :url, :events, :status, :secret, :previous_secret,
     :previous_secret_until, :failures, :created_at, :updated_at)

-- get_webhook_endpoint --
SELECT endpoint_id, account_id, url, events, status, secret, previous_secret,
       previous_secret_until, failures, created_at, updated_at
FROM webhook_endpoints
WHERE endpoint_id = :endpoint_id
  AND (CAST(:account_id AS TEXT) IS NULL OR account_id = :account_id)

-- list_webhook_endpoints --
SELECT endpoint_id, account_id, url, events, status, secret, previous_secret,
       previous_secret_until, failures, created_at, updated_at
FROM webhook_endpoints
WHERE account_id = :account_id
  AND (CAST(:after_id AS TEXT) IS NULL OR created_at > :after_created
       OR (created_at = :after_created AND endpoint_id > :after_id))
ORDER BY created_at, endpoint_id
LIMIT :limit

-- enabled_webhook_endpoints --
SELECT endpoint_id, account_id, url, events, status, secret, previous_secret,
       previous_secret_until, failures, created_at, updated_at
FROM webhook_endpoints
WHERE account_id = :account_id AND status = 'enabled'

-- update_webhook_endpoint --
UPDATE webhook_endpoints SET
    url = :url, events = :events, status = :status, secret = :secret,
    previous_secret = :previous_secret, previous_secret_until = :previous_secret_until,
    failures = :failures, updated_at = :updated_at
WHERE endpoint_id = :endpoint_id AND account_id = :account_id

-- delete_webhook_endpoint --
DELETE FROM webhook_endpoints WHERE endpoint_id = :endpoint_id AND account_id = :account_id

-- webhook_attempt_succeeded --
UPDATE webhook_endpoints SET failures = 0 WHERE endpoint_id = :endpoint_id AND failures <> 0

-- webhook_attempt_failed --
UPDATE webhook_endpoints SET
    failures = failures + 1,
    status = CASE WHEN failures + 1 >= :disable_after THEN 'disabled' ELSE status END,
    updated_at = :updated_at
WHERE endpoint_id = :endpoint_id

-- insert_webhook_event --
INSERT INTO webhook_events (event_id, account_id, event_type, entity_id, payload, created_at)
VALUES (:event_id, :account_id, :event_type, :entity_id, :payload, :created_at)

-- get_webhook_event --
SELECT event_id, account_id, event_type, entity_id, payload, created_at
FROM webhook_events WHERE event_id = :event_id

-- list_webhook_events --
SELECT event_id, account_id, event_type, entity_id, payload, created_at
FROM webhook_events
WHERE account_id = :account_id
  AND (CAST(:event_type AS TEXT) IS NULL OR event_type = :event_type)
  AND (CAST(:entity_id AS TEXT) IS NULL OR entity_id = :entity_id)
  AND (CAST(:before_id AS TEXT) IS NULL OR created_at < :before_created
       OR (created_at = :before_created AND event_id < :before_id))
ORDER BY created_at DESC, event_id DESC
LIMIT :limit

-- insert_webhook_delivery --
INSERT INTO webhook_deliveries
    (delivery_id, event_id, endpoint_id, account_id, state, attempts, last_status_code,
     last_error, response_prefix, created_at, updated_at)
VALUES
    (:delivery_id, :event_id, :endpoint_id, :account_id, :state, :attempts, :last_status_code,
     :last_error, :response_prefix, :created_at, :updated_at)

-- get_webhook_delivery --
SELECT delivery_id, event_id, endpoint_id, account_id, state, attempts, last_status_code,
       last_error, response_prefix, created_at, updated_at
FROM webhook_deliveries WHERE delivery_id = :delivery_id

-- deliveries_of_webhook_event --
SELECT delivery_id, event_id, endpoint_id, account_id, state, attempts, last_status_code,
       last_error, response_prefix, created_at, updated_at
FROM webhook_deliveries WHERE event_id = :event_id
ORDER BY created_at, delivery_id

-- record_webhook_delivery --
UPDATE webhook_deliveries SET
    state = :state, attempts = :attempts, last_status_code = :last_status_code,
    last_error = :last_error, response_prefix = :response_prefix, updated_at = :updated_at
WHERE delivery_id = :delivery_id

-- set_voice_traits --
INSERT INTO voice_traits (voice_id, traits, measured_at)
VALUES (:voice_id, :traits, :measured_at)
ON CONFLICT (voice_id) DO UPDATE SET traits = excluded.traits, measured_at = excluded.measured_at

-- voice_traits --
SELECT t.voice_id, t.traits
FROM voice_traits t JOIN voices v ON v.voice_id = t.voice_id
WHERE (CAST(:account_id AS TEXT) IS NULL AND v.account_id IS NULL) OR v.account_id = :account_id
