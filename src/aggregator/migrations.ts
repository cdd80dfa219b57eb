/**
 * Versioned schema migrations, applied in order, each in its own transaction
 * and recorded in schema_migrations. Never edit a released migration: add one.
 */
import type { Sql } from './sql.ts'

/** The advisory lock creating partitions takes ("fomp"), apart from the one ordering ingest and sealing. */
export const PARTITION_LOCK = 0x666f6d70

export const MIGRATIONS: Array<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'receipts, epochs, inputs, rewards, artifacts',
    sql: `
      CREATE TABLE config (
        id int PRIMARY KEY CHECK (id = 1),
        document jsonb NOT NULL
      );
      CREATE TABLE providers (
        deployment_id bytea NOT NULL,
        provider bytea NOT NULL,
        revoked boolean NOT NULL DEFAULT false,
        PRIMARY KEY (deployment_id, provider)
      );
      CREATE TABLE epochs (
        epoch bigint PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('open', 'sealed')),
        spend_root text,
        reward_root text,
        manifest_sha256 text
      );
      -- The digest is the receipt's identity; epoch leads the key so the table can be
      -- partitioned by epoch (the digest commits to the epoch, so uniqueness is unchanged).
      CREATE TABLE receipts (
        epoch bigint NOT NULL,
        provider bytea NOT NULL,
        digest bytea NOT NULL,
        deployment_id bytea NOT NULL,
        user_address bytea NOT NULL,
        request_id bytea NOT NULL,
        ts bigint NOT NULL,
        input_tokens bigint NOT NULL,
        output_tokens bigint NOT NULL,
        gross numeric(20, 0) NOT NULL CHECK (gross > 0),
        discount_bps int NOT NULL CHECK (discount_bps BETWEEN 0 AND 10000),
        charged numeric(20, 0) NOT NULL CHECK (charged >= 0 AND charged <= gross),
        signature bytea,
        batch_root bytea,
        PRIMARY KEY (epoch, provider, digest),
        UNIQUE (epoch, provider, request_id),
        CHECK ((signature IS NULL) <> (batch_root IS NULL))
      );
      CREATE INDEX receipts_spend ON receipts (epoch, deployment_id, user_address);
      CREATE TABLE batches (
        epoch bigint NOT NULL,
        provider bytea NOT NULL,
        receipts_root bytea NOT NULL,
        document text NOT NULL,
        PRIMARY KEY (epoch, provider, receipts_root)
      );
      CREATE TABLE epoch_inputs (
        epoch bigint NOT NULL,
        deployment_id bytea NOT NULL,
        opex numeric(78, 0) NOT NULL,
        circulating numeric(78, 0),
        PRIMARY KEY (epoch, deployment_id)
      );
      CREATE TABLE stakes (
        epoch bigint NOT NULL,
        deployment_id bytea NOT NULL,
        account bytea NOT NULL,
        stake numeric(78, 0) NOT NULL,
        PRIMARY KEY (epoch, deployment_id, account)
      );
      CREATE TABLE rewards (
        epoch bigint NOT NULL,
        account bytea NOT NULL,
        token bytea NOT NULL,
        amount numeric(78, 0) NOT NULL CHECK (amount > 0),
        PRIMARY KEY (epoch, account, token)
      );
      CREATE TABLE artifacts (
        epoch bigint NOT NULL,
        name text NOT NULL,
        content bytea NOT NULL,
        sha256 text NOT NULL,
        PRIMARY KEY (epoch, name)
      );
    `,
  },
  {
    version: 2,
    name: 'epoch_inputs: where the stake snapshot was read (MTStaking contract, snapshot block)',
    sql: `ALTER TABLE epoch_inputs ADD COLUMN snapshot_staking bytea, ADD COLUMN snapshot_block numeric(20, 0);`,
  },
  {
    version: 3,
    name: 'configurations by the epoch they apply from, a version nodes notice changes by; the receipts each batch row holds',
    sql: `
      CREATE TABLE configs (
        from_epoch bigint PRIMARY KEY,
        document jsonb NOT NULL
      );
      INSERT INTO configs (from_epoch, document) SELECT 0, document FROM config WHERE id = 1;
      ALTER TABLE config ADD COLUMN version bigint NOT NULL DEFAULT 1;
      -- Indices (in the batch) of the receipts stored under this batch in this epoch; NULL: all of them.
      ALTER TABLE batches ADD COLUMN receipts int[];
    `,
  },
  {
    version: 4,
    name: 'receipts and batches partitioned by epoch (a partition per epoch and a default one), when each epoch was sealed, the epochs whose receipts retention removed',
    sql: `
      -- The unpartitioned tables step aside (their index names are schema-wide, so they move too) and are copied
      -- into the partitioned ones, epoch by epoch, in this one transaction.
      ALTER TABLE receipts RENAME TO receipts_v3;
      ALTER TABLE receipts_v3 RENAME CONSTRAINT receipts_pkey TO receipts_v3_pkey;
      ALTER TABLE receipts_v3 RENAME CONSTRAINT receipts_epoch_provider_request_id_key TO receipts_v3_request_key;
      ALTER INDEX receipts_spend RENAME TO receipts_v3_spend;
      ALTER TABLE batches RENAME TO batches_v3;
      ALTER TABLE batches_v3 RENAME CONSTRAINT batches_pkey TO batches_v3_pkey;
      CREATE TABLE receipts (
        epoch bigint NOT NULL,
        provider bytea NOT NULL,
        digest bytea NOT NULL,
        deployment_id bytea NOT NULL,
        user_address bytea NOT NULL,
        request_id bytea NOT NULL,
        ts bigint NOT NULL,
        input_tokens bigint NOT NULL,
        output_tokens bigint NOT NULL,
        gross numeric(20, 0) NOT NULL CHECK (gross > 0),
        discount_bps int NOT NULL CHECK (discount_bps BETWEEN 0 AND 10000),
        charged numeric(20, 0) NOT NULL CHECK (charged >= 0 AND charged <= gross),
        signature bytea,
        batch_root bytea,
        PRIMARY KEY (epoch, provider, digest),
        UNIQUE (epoch, provider, request_id),
        CHECK ((signature IS NULL) <> (batch_root IS NULL))
      ) PARTITION BY LIST (epoch);
      CREATE INDEX receipts_spend ON receipts (epoch, deployment_id, user_address);
      CREATE TABLE batches (
        epoch bigint NOT NULL,
        provider bytea NOT NULL,
        receipts_root bytea NOT NULL,
        document text NOT NULL,
        receipts int[],
        PRIMARY KEY (epoch, provider, receipts_root)
      ) PARTITION BY LIST (epoch);
      -- Rows of an epoch without its own partition land here: an insert never fails for want of a partition.
      CREATE TABLE receipts_default PARTITION OF receipts DEFAULT;
      CREATE TABLE batches_default PARTITION OF batches DEFAULT;
      ALTER TABLE epochs ADD COLUMN sealed_at bigint;
      -- Epochs sealed before this migration count as sealed now: their retention window starts today.
      UPDATE epochs SET sealed_at = extract(epoch FROM now())::bigint WHERE status = 'sealed';
      -- An epoch whose receipts and batches left the store after a verified export.
      CREATE TABLE retained_epochs (
        epoch bigint PRIMARY KEY,
        receipts bigint NOT NULL,
        batches bigint NOT NULL,
        gross numeric(78, 0) NOT NULL,
        charged numeric(78, 0) NOT NULL,
        digests_hash text NOT NULL,
        export_file text NOT NULL,
        export_sha256 text NOT NULL,
        mode text NOT NULL CHECK (mode IN ('drop', 'detach')),
        retained_at bigint NOT NULL
      );
      -- Creates epoch e's partitions of receipts and batches unless they exist (or the epoch was retained), moving
      -- rows that reached the default partitions first. True when it created one.
      CREATE FUNCTION fomo_epoch_partition(e bigint) RETURNS boolean LANGUAGE plpgsql AS $fn$
      DECLARE
        t text;
        part text;
        made boolean := false;
      BEGIN
        IF e < 0 THEN RETURN false; END IF;
        -- Two servers creating the same partition: the second waits, then finds it.
        PERFORM pg_advisory_xact_lock(${PARTITION_LOCK});
        IF EXISTS (SELECT 1 FROM retained_epochs r WHERE r.epoch = e) THEN RETURN false; END IF;
        FOREACH t IN ARRAY ARRAY['receipts', 'batches'] LOOP
          part := t || '_epoch_' || e;
          IF to_regclass(quote_ident(part)) IS NULL THEN
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, t);
            -- The check lets ATTACH skip scanning the new table.
            EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (epoch = %s)', part, part || '_epoch', e);
            -- Inserts routed to the default partition wait until the move and the attach are done, so none lands in between.
            EXECUTE format('LOCK TABLE %I IN SHARE ROW EXCLUSIVE MODE', t || '_default');
            EXECUTE format('WITH moved AS (DELETE FROM %I WHERE epoch = %s RETURNING *) INSERT INTO %I SELECT * FROM moved', t || '_default', e, part);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES IN (%s)', t, part, e);
            made := true;
          END IF;
        END LOOP;
        RETURN made;
      END
      $fn$;
      SELECT fomo_epoch_partition(epoch) FROM (SELECT DISTINCT epoch FROM receipts_v3 UNION SELECT DISTINCT epoch FROM batches_v3) e ORDER BY epoch;
      INSERT INTO receipts (epoch, provider, digest, deployment_id, user_address, request_id, ts, input_tokens, output_tokens, gross, discount_bps, charged, signature, batch_root)
        SELECT epoch, provider, digest, deployment_id, user_address, request_id, ts, input_tokens, output_tokens, gross, discount_bps, charged, signature, batch_root FROM receipts_v3;
      INSERT INTO batches (epoch, provider, receipts_root, document, receipts) SELECT epoch, provider, receipts_root, document, receipts FROM batches_v3;
      DROP TABLE receipts_v3;
      DROP TABLE batches_v3;
    `,
  },
  {
    version: 5,
    name: 'artifact_chunks: the bytes of an artifact past its first chunk (an epoch of a million users has files over 1 GB)',
    sql: `
      -- artifacts.content keeps an artifact's first chunk (ARTIFACT_CHUNK_BYTES, 32 MiB); the rest follow here, by seq from 1.
      CREATE TABLE artifact_chunks (
        epoch bigint NOT NULL,
        name text NOT NULL,
        seq int NOT NULL CHECK (seq >= 1),
        content bytea NOT NULL,
        PRIMARY KEY (epoch, name, seq),
        FOREIGN KEY (epoch, name) REFERENCES artifacts (epoch, name)
      );
    `,
  },
  {
    version: 6,
    name: 'receipts: no secondary index on (epoch, deployment_id, user_address) (sealing scans and sorts the partition; the index only slowed ingest)',
    sql: `
      -- The seal's aggregate reads a whole epoch's partition, which PostgreSQL does by a scan and a sort with or without
      -- this index; each stored receipt paid for it (docs/scaling.md, "The database").
      DROP INDEX IF EXISTS receipts_spend;
    `,
  },
]

/**
 * Bytes of an artifact per row: well under PostgreSQL's 1 GB field limit, and a row's text form (hex, twice as long)
 * well under the longest string JavaScript can make.
 */
export const ARTIFACT_CHUNK_BYTES = 32 * 1024 * 1024

/** Applies the migrations not applied yet, up to `upTo` (default: all; a lower one builds an earlier schema, for migration tests). */
export async function migrate(sql: Sql, upTo = Infinity): Promise<number> {
  await sql.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
  let applied = 0
  for (const m of MIGRATIONS.filter((x) => x.version <= upTo)) {
    // Two servers starting together: the primary key lets one apply a migration, the other waits and skips it.
    await sql.transaction(async (tx) => {
      await tx.exec('LOCK TABLE schema_migrations IN EXCLUSIVE MODE')
      const done = await tx.query<{ version: number }>('SELECT version FROM schema_migrations WHERE version = $1', [m.version])
      if (done.length > 0) return
      await tx.exec(m.sql)
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name])
      applied++
    })
  }
  return applied
}
