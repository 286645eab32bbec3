#ifndef FLEET_CSQLITE_SHIM_H
#define FLEET_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import: bind copies through these wrappers.
static inline int fleet_sqlite3_bind_text_copy(sqlite3_stmt *stmt, int index, const char *text, int length) {
    return sqlite3_bind_text(stmt, index, text, length, SQLITE_TRANSIENT);
}
static inline int fleet_sqlite3_bind_blob_copy(sqlite3_stmt *stmt, int index, const void *data, int length) {
    return sqlite3_bind_blob(stmt, index, data, length, SQLITE_TRANSIENT);
}
// Binds text SQLite does not copy: the caller keeps it valid until the statement is reset and its
// bindings cleared (SQLITE_STATIC is a cast macro too).
static inline int fleet_sqlite3_bind_text_static(sqlite3_stmt *stmt, int index, const char *text, int length) {
    return sqlite3_bind_text(stmt, index, text, length, SQLITE_STATIC);
}
// sqlite3_config is variadic (Swift cannot call it). Memory statistics make every SQLite
// allocation take a global mutex; nothing here reads them. Must run before the first connection.
static inline int fleet_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
#endif
