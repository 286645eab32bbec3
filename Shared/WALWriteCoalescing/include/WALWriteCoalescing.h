#ifndef FLEET_WAL_WRITE_COALESCING_H
#define FLEET_WAL_WRITE_COALESCING_H

// A SQLite VFS over the default one ("unix") that gathers each commit's WAL writes into one
// write(2). SQLite writes a WAL frame as two pwrite calls (24-byte header, then the page); a commit
// of twenty pages made forty system calls on the committing thread. Here a WAL file's contiguous
// writes collect in a buffer that is written when the commit's last frame is complete, and before
// anything that reads, syncs, sizes or truncates the file, and before the commit is published to
// other connections (the wal-index header, behind a shared-memory barrier). A failed write fails the
// commit as before. Everything else passes through to the default VFS.

#include <stdint.h>

// The name to open databases with (sqlite3_open_v2's zVfs).
#define FLEET_WAL_COALESCING_VFS "fleet-wal-coalescing"

// Registers the VFS (not as the default); idempotent and thread-safe. Returns an SQLite result code.
int fleet_wal_coalescing_register(void);

typedef struct sqlite3 sqlite3;

// The writes this VFS made to the WAL of connection `db` (a test checks that a commit of many pages
// is one write); UINT64_MAX if the connection's WAL is not open through this VFS.
uint64_t fleet_wal_coalescing_wal_writes(sqlite3 *db);

#endif
