-- An import runs on one process at a time, which holds it by a lease (src/importer.rs): who
-- holds it, and until when (milliseconds since the epoch). The holder renews it while it works;
-- once it lapses — its process died — another process takes the import over where it stopped.
-- (On SQLite there is one process, which takes every lease over when it starts.)
ALTER TABLE imports ADD COLUMN lease_owner TEXT;
ALTER TABLE imports ADD COLUMN lease_until INTEGER;
