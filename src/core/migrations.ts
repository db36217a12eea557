/**
 * The database schema as an append-only list of migrations; `PRAGMA user_version` records how many ran.
 * Never edit a shipped migration: add the next one.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE tasks (
     id TEXT PRIMARY KEY,
     provider TEXT NOT NULL,
     kind TEXT NOT NULL CHECK (kind IN ('t2v', 'i2v')),
     prompt TEXT NOT NULL,
     guest INTEGER NOT NULL DEFAULT 0,
     image_path TEXT,
     image_ref TEXT,
     conversation_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     section_id TEXT,
     upstream TEXT,
     status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'cancelled')),
     attempts INTEGER NOT NULL DEFAULT 0,
     max_attempts INTEGER NOT NULL,
     next_attempt_at INTEGER,
     lease_until INTEGER,
     progress REAL,
     video_urls TEXT NOT NULL DEFAULT '[]',
     video_file TEXT,
     error TEXT,
     platform TEXT NOT NULL,
     user_id TEXT NOT NULL,
     origin TEXT NOT NULL,
     delivered_at TEXT,
     created_at TEXT NOT NULL,
     updated_at TEXT NOT NULL
   );
   CREATE INDEX tasks_due ON tasks (provider, status, next_attempt_at);
   CREATE INDEX tasks_seed_ids ON tasks (conversation_id, message_id);
   CREATE INDEX tasks_user ON tasks (platform, user_id, created_at);
   CREATE INDEX tasks_outbox ON tasks (platform, delivered_at, status);
   CREATE INDEX tasks_created ON tasks (created_at);`,
  // The scheduler's two questions — the earliest next look, the earliest lapsing lease — answered from indexes
  // of the unfinished tasks only, so their cost does not grow with the number of tasks in flight.
  `CREATE INDEX tasks_wake ON tasks (provider, (upstream IS NULL), next_attempt_at)
     WHERE status NOT IN ('completed','failed','cancelled') AND next_attempt_at IS NOT NULL;
   CREATE INDEX tasks_leases ON tasks (provider, (upstream IS NULL), lease_until)
     WHERE status NOT IN ('completed','failed','cancelled') AND lease_until IS NOT NULL;`,
  // The key a client gives a request (an Idempotency-Key, a chat message id): the same request sent twice is one task.
  `ALTER TABLE tasks ADD COLUMN request_key TEXT;
   CREATE UNIQUE INDEX tasks_request_key ON tasks (request_key) WHERE request_key IS NOT NULL;`,
  // What providers keep across restarts (a Doubao session's state, the dialect that worked), as JSON by key.
  `CREATE TABLE provider_state (
     provider TEXT NOT NULL,
     key TEXT NOT NULL,
     value TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (provider, key)
   );`,
  // Leases and hot paths (issue 12). A lease names its owner (a process instance, one row of `owners`) and a
  // fencing token bumped on every claim, so a step whose lease was taken again cannot write; `claimed_at` is when
  // the lease began (the window of an interrupted start). `upstream_id` (the job id, also inside `upstream`) and
  // the partial indexes of live rows answer the per-callback, per-submit and per-kick questions without walking
  // finished tasks. `upstream_ended`: the upstream job itself ended (failed or cancelled there), so a retry starts
  // a new one instead of looking at it again.
  `ALTER TABLE tasks ADD COLUMN lease_owner TEXT;
   ALTER TABLE tasks ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE tasks ADD COLUMN claimed_at INTEGER;
   ALTER TABLE tasks ADD COLUMN upstream_id TEXT;
   ALTER TABLE tasks ADD COLUMN upstream_ended INTEGER NOT NULL DEFAULT 0;
   UPDATE tasks SET upstream_id = json_extract(upstream, '$.id') WHERE upstream IS NOT NULL;
   CREATE INDEX tasks_upstream_id ON tasks (provider, upstream_id) WHERE upstream_id IS NOT NULL;
   CREATE INDEX tasks_live ON tasks (provider, created_at, upstream_id)
     WHERE status NOT IN ('completed','failed','cancelled');
   CREATE INDEX tasks_lease_owner ON tasks (lease_owner) WHERE lease_until IS NOT NULL;
   CREATE TABLE owners (
     id TEXT PRIMARY KEY,
     pid INTEGER NOT NULL,
     host TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     heartbeat_at INTEGER NOT NULL
   );`,
  // Retention: when the sweep removed a task's re-hosted video (its link then answers 410), and an index of the tasks
  // that still hold a file, so the sweep's questions stay cheap with a long history. Completed tasks' images were
  // already deleted by earlier versions; their paths are cleared so the sweep does not look for them.
  `ALTER TABLE tasks ADD COLUMN video_removed_at TEXT;
   UPDATE tasks SET image_path = NULL WHERE status = 'completed';
   CREATE INDEX tasks_kept_videos ON tasks (updated_at) WHERE video_file IS NOT NULL AND video_removed_at IS NULL;
   CREATE INDEX tasks_kept_images ON tasks (status, updated_at) WHERE image_path IS NOT NULL;`,
  // One row rewritten by GET /readyz to prove the database still takes writes (disk full, read-only mount, lock).
  `CREATE TABLE health_probe (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     written_at TEXT NOT NULL
   );`,
  // Deliveries (issue 12): every message the service owes someone — a task's final result to its asker, an incident
  // alert to an admin — is a row with its own schedule (next try, tries, last error), claimed under a lease like a
  // task, so it survives restarts, backs off through an outage and is marked sent only for what was sent. A task's
  // `generation` grows on every retry: a result row names the outcome and generation it tells, so a retry supersedes
  // it. Incidents reported by providers are recorded, one alert row per admin. Final chat tasks not yet delivered
  // get their row here.
  `ALTER TABLE tasks ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
   CREATE TABLE incidents (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     provider TEXT NOT NULL,
     subject TEXT NOT NULL,
     kind TEXT NOT NULL,
     code TEXT,
     message TEXT NOT NULL,
     action TEXT,
     created_at TEXT NOT NULL
   );
   CREATE INDEX incidents_subject ON incidents (provider, subject, id);
   CREATE TABLE deliveries (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL CHECK (kind IN ('result', 'alert')),
     platform TEXT NOT NULL,
     task_id TEXT,
     outcome TEXT CHECK (outcome IN ('completed', 'failed', 'cancelled')),
     generation INTEGER,
     incident_id INTEGER,
     recipient TEXT,
     state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'superseded', 'given_up')),
     tries INTEGER NOT NULL DEFAULT 0,
     next_try_at INTEGER NOT NULL,
     lease_until INTEGER,
     claim INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     given_up_reason TEXT,
     created_at TEXT NOT NULL,
     sent_at TEXT,
     done_at TEXT
   );
   CREATE UNIQUE INDEX deliveries_result ON deliveries (task_id, generation) WHERE kind = 'result';
   CREATE UNIQUE INDEX deliveries_alert ON deliveries (incident_id, platform, recipient) WHERE kind = 'alert';
   CREATE INDEX deliveries_due ON deliveries (platform, kind, next_try_at) WHERE state = 'pending';
   CREATE INDEX deliveries_task ON deliveries (task_id) WHERE task_id IS NOT NULL;
   INSERT INTO deliveries (kind, platform, task_id, outcome, generation, next_try_at, created_at)
     SELECT 'result', platform, id, status, 0, 0, updated_at FROM tasks
      WHERE status IN ('completed', 'failed', 'cancelled') AND delivered_at IS NULL
        AND platform IN ('telegram', 'discord');`,
  // Generation options (issue 15): the aspect ratio, duration and resolution a task asked for, as JSON
  // (`{"ratio":"9:16","durationS":10}`); NULL for every task made before, and for any that asked for none.
  `ALTER TABLE tasks ADD COLUMN video_options TEXT;`,
  // The admin page (issue 17): every task event as a row (the attempts timeline: when, what the upstream said), so a
  // task's story can be read back. A `completed` row also keeps how long its run took from the request (or the
  // retry) in `run_ms`, so the time to video per provider is read from the completed rows alone (covering index).
  `CREATE TABLE task_events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     task_id TEXT NOT NULL,
     generation INTEGER NOT NULL,
     provider TEXT NOT NULL,
     event TEXT NOT NULL,
     status TEXT NOT NULL,
     attempts INTEGER NOT NULL,
     progress REAL,
     note TEXT,
     run_ms INTEGER,
     at TEXT NOT NULL
   );
   CREATE INDEX task_events_task ON task_events (task_id, generation, event);
   CREATE INDEX task_events_completed ON task_events (at, provider, run_ms) WHERE event = 'completed';
   CREATE INDEX deliveries_failing ON deliveries (state, tries) WHERE state IN ('pending', 'given_up');`,
  // Who may use it and in their language (issue 15). `user_limits`: an admin's limits for one chat user (null = the
  // configured default) and when an admin reset the user's daily count (tasks created before it no longer count).
  // `error_reason`: why a task failed as a code and parameters (JSON), so each bot says it in its user's language.
  `CREATE TABLE user_limits (
     platform TEXT NOT NULL,
     user_id TEXT NOT NULL,
     max_active INTEGER,
     daily_limit INTEGER,
     daily_reset_at TEXT,
     updated_at TEXT NOT NULL,
     PRIMARY KEY (platform, user_id)
   );
   ALTER TABLE tasks ADD COLUMN error_reason TEXT;`,
  // Issue 15, control and live queue: `video_times` keeps when each task's upstream job started and when its video
  // was ready (the wait estimate's history); `pending_photos` keeps a Telegram photo waiting for its prompt, so a
  // restart does not lose it (expired rows are removed when the next one is kept).
  `CREATE TABLE video_times (
     task_id TEXT PRIMARY KEY,
     provider TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     done_at INTEGER
   );
   CREATE INDEX video_times_recent ON video_times (provider, done_at) WHERE done_at IS NOT NULL;
   CREATE TABLE pending_photos (
     key TEXT PRIMARY KEY,
     user_id TEXT NOT NULL,
     photo TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX pending_photos_expiry ON pending_photos (expires_at);`,
  // Issue 16, several processes: the admin page's sign-in sessions live in the database, so any process behind a
  // load balancer knows them. Only a hash of the session id is kept (the cookie's value is the credential).
  `CREATE TABLE admin_sessions (
     id_hash TEXT PRIMARY KEY,
     csrf TEXT NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX admin_sessions_expiry ON admin_sessions (expires_at);`,
];
