-- pgbench script: the peer of POST /push-notification-subscriptions.
--
-- The module's own statement (src/db/sql.cpp, sql::subscription_create),
-- run with pgbench -M prepared like the module's pool does, every argument
-- a parameter as the module sends it.  bench/subscriptions-bench passes the
-- constant ones with -D (provider, grp, ident, locale, ttl, ins) and the
-- payload's two halves (pre, post): the payload is the module's stored
-- form of the same subscription wrk posts (PHP-style JSON, "\/" escapes,
-- same keys, same length within a few bytes), its endpoint made distinct
-- by client id and a random number; the checksum is md5 of it, as the
-- module computes in C++ before sending.
\set n random(1, 1000000000000000)
SELECT provider_found, locale_found, duplicate, uuid, expired_at
  FROM webpush_subscription_create(:provider, :grp, :ident,
       :pre::text || :client_id || '-' || :n || :post,
       md5(:pre::text || :client_id || '-' || :n || :post),
       :locale, :ttl, :ins);
