// Package rowcodec holds what the SQL backends of package store share
// about rows: how a twin is stamped on write, how it is encoded into its
// props and meta columns and decoded back, and how write preconditions are
// checked. SQLite and PostgreSQL keep the same row format, so they use one
// codec instead of two copies that could drift apart.
package rowcodec
