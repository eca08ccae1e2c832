// Package backup copies a SQLite store while its server runs and puts a
// copy back.
//
// Backup uses VACUUM INTO, which reads the database in one read
// transaction: the copy is the store as of the instant that transaction
// began (every write committed before it, none after), while the server
// keeps writing through its WAL. Restore checks that a file is a Lodestone
// store (its tables and schema version) before it replaces anything.
//
// PostgreSQL stores are backed up with pg_dump; see docs/operations.md.
package backup
