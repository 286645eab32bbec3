#include "WALWriteCoalescing.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

// The largest run of WAL bytes kept before it is written: a commit bigger than this goes out in
// several writes, still far fewer than two per page. Below 128 KiB: the unix VFS writes at most
// 17 bits' worth of bytes per call (it masks the length) and fails larger writes as "disk full".
#define MAX_BUFFERED (120 * 1024)
#define WAL_FRAME_HEADER 24

typedef struct CoalescingFile CoalescingFile;
struct CoalescingFile {
    sqlite3_file base;      // must be first: SQLite sees this
    sqlite3_file *real;     // the default VFS's file, allocated right after this struct
    int isWAL;
    // WAL files: bytes written by SQLite and not yet by us, for the file range
    // [bufferOffset, bufferOffset + bufferLength).
    unsigned char *buffer;
    int bufferLength;
    int bufferCapacity;
    sqlite3_int64 bufferOffset;
    // The last write was the header of a commit frame: its page completes the commit.
    int commitFramePending;
    // Writes made to the file below (WAL files).
    uint64_t writes;
    // Database files: the WAL of the same connection, whose writes must reach the file before the
    // commit is published in shared memory. WAL files: the database file they belong to.
    CoalescingFile *partner;
};

static sqlite3_vfs coalescingVFS;
static sqlite3_vfs *defaultVFS;

static int writeBuffer(CoalescingFile *file) {
    if (file->bufferLength == 0) return SQLITE_OK;
    int length = file->bufferLength;
    file->bufferLength = 0;
    file->writes += 1;
    return file->real->pMethods->xWrite(file->real, file->buffer, length, file->bufferOffset);
}

static int coalescingClose(sqlite3_file *base) {
    CoalescingFile *file = (CoalescingFile *)base;
    int rc = writeBuffer(file);
    // Unlink only if the partner still points here (a WAL reopened later links to the database anew).
    if (file->partner && file->partner->partner == file) file->partner->partner = NULL;
    free(file->buffer);
    file->buffer = NULL;
    int closeRC = file->real->pMethods->xClose(file->real);
    return rc != SQLITE_OK ? rc : closeRC;
}

static int coalescingRead(sqlite3_file *base, void *out, int amount, sqlite3_int64 offset) {
    CoalescingFile *file = (CoalescingFile *)base;
    int rc = writeBuffer(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xRead(file->real, out, amount, offset);
}

static int append(CoalescingFile *file, const void *data, int amount, sqlite3_int64 offset) {
    int contiguous = file->bufferLength > 0 && offset == file->bufferOffset + file->bufferLength;
    if (!contiguous || file->bufferLength + amount > MAX_BUFFERED) {
        int rc = writeBuffer(file);
        if (rc != SQLITE_OK) return rc;
        if (amount >= MAX_BUFFERED) {
            file->writes += 1;
            return file->real->pMethods->xWrite(file->real, data, amount, offset);
        }
        file->bufferOffset = offset;
    }
    if (file->bufferLength + amount > file->bufferCapacity) {
        int capacity = file->bufferCapacity ? file->bufferCapacity : 16 * 1024;
        while (capacity < file->bufferLength + amount) capacity *= 2;
        if (capacity > MAX_BUFFERED) capacity = MAX_BUFFERED;
        unsigned char *grown = realloc(file->buffer, (size_t)capacity);
        if (!grown) {
            int rc = writeBuffer(file);
            if (rc != SQLITE_OK) return rc;
            file->writes += 1;
            return file->real->pMethods->xWrite(file->real, data, amount, offset);
        }
        file->buffer = grown;
        file->bufferCapacity = capacity;
    }
    memcpy(file->buffer + file->bufferLength, data, (size_t)amount);
    file->bufferLength += amount;
    return SQLITE_OK;
}

static int coalescingWrite(sqlite3_file *base, const void *data, int amount, sqlite3_int64 offset) {
    CoalescingFile *file = (CoalescingFile *)base;
    if (!file->isWAL) return file->real->pMethods->xWrite(file->real, data, amount, offset);
    int completesCommit = file->commitFramePending;
    // A frame header's bytes 4-7 hold the database size after a commit frame, zero otherwise.
    const unsigned char *bytes = data;
    file->commitFramePending =
        amount == WAL_FRAME_HEADER && (bytes[4] | bytes[5] | bytes[6] | bytes[7]) != 0;
    int rc = append(file, data, amount, offset);
    if (rc != SQLITE_OK) return rc;
    // The commit frame's page is the commit's last write: out now, so an error fails the commit.
    return completesCommit ? writeBuffer(file) : SQLITE_OK;
}

static int coalescingTruncate(sqlite3_file *base, sqlite3_int64 size) {
    CoalescingFile *file = (CoalescingFile *)base;
    int rc = writeBuffer(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xTruncate(file->real, size);
}

static int coalescingSync(sqlite3_file *base, int flags) {
    CoalescingFile *file = (CoalescingFile *)base;
    int rc = writeBuffer(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xSync(file->real, flags);
}

static int coalescingFileSize(sqlite3_file *base, sqlite3_int64 *size) {
    CoalescingFile *file = (CoalescingFile *)base;
    int rc = writeBuffer(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xFileSize(file->real, size);
}

static int coalescingLock(sqlite3_file *base, int level) {
    CoalescingFile *file = (CoalescingFile *)base;
    return file->real->pMethods->xLock(file->real, level);
}

static int coalescingUnlock(sqlite3_file *base, int level) {
    CoalescingFile *file = (CoalescingFile *)base;
    return file->real->pMethods->xUnlock(file->real, level);
}

static int coalescingCheckReservedLock(sqlite3_file *base, int *reserved) {
    CoalescingFile *file = (CoalescingFile *)base;
    return file->real->pMethods->xCheckReservedLock(file->real, reserved);
}

static int coalescingFileControl(sqlite3_file *base, int op, void *argument) {
    CoalescingFile *file = (CoalescingFile *)base;
    int rc = writeBuffer(file);
    if (rc != SQLITE_OK) return rc;
    if (op == SQLITE_FCNTL_VFSNAME) {
        // Name this layer over the one below, as SQLite's own shims do.
        char *below = NULL;
        file->real->pMethods->xFileControl(file->real, op, &below);
        *(char **)argument = below ? sqlite3_mprintf("%s/%z", FLEET_WAL_COALESCING_VFS, below)
                                   : sqlite3_mprintf("%s", FLEET_WAL_COALESCING_VFS);
        return SQLITE_OK;
    }
    return file->real->pMethods->xFileControl(file->real, op, argument);
}

static int coalescingSectorSize(sqlite3_file *base) {
    CoalescingFile *file = (CoalescingFile *)base;
    return file->real->pMethods->xSectorSize(file->real);
}

static int coalescingDeviceCharacteristics(sqlite3_file *base) {
    CoalescingFile *file = (CoalescingFile *)base;
    return file->real->pMethods->xDeviceCharacteristics(file->real);
}

static int coalescingShmMap(sqlite3_file *base, int region, int size, int extend, void volatile **out) {
    CoalescingFile *file = (CoalescingFile *)base;
    return file->real->pMethods->xShmMap(file->real, region, size, extend, out);
}

static int coalescingShmLock(sqlite3_file *base, int offset, int count, int flags) {
    CoalescingFile *file = (CoalescingFile *)base;
    return file->real->pMethods->xShmLock(file->real, offset, count, flags);
}

static void coalescingShmBarrier(sqlite3_file *base) {
    CoalescingFile *file = (CoalescingFile *)base;
    // SQLite publishes a commit by writing the wal-index header twice around this barrier: frames
    // still buffered would be visible to other connections before they are in the file. The
    // commit frame's write has normally emptied the buffer already; if this last write fails there
    // is no way to stop the header going out, so the process stops rather than let a reader copy
    // pages that were never written (recovery then drops the unwritten commit: its checksums fail).
    if (file->partner && writeBuffer(file->partner) != SQLITE_OK) abort();
    file->real->pMethods->xShmBarrier(file->real);
}

static int coalescingShmUnmap(sqlite3_file *base, int deleteFlag) {
    CoalescingFile *file = (CoalescingFile *)base;
    return file->real->pMethods->xShmUnmap(file->real, deleteFlag);
}

static int coalescingFetch(sqlite3_file *base, sqlite3_int64 offset, int amount, void **out) {
    CoalescingFile *file = (CoalescingFile *)base;
    int rc = writeBuffer(file);
    if (rc != SQLITE_OK) return rc;
    return file->real->pMethods->xFetch(file->real, offset, amount, out);
}

static int coalescingUnfetch(sqlite3_file *base, sqlite3_int64 offset, void *page) {
    CoalescingFile *file = (CoalescingFile *)base;
    return file->real->pMethods->xUnfetch(file->real, offset, page);
}

static const sqlite3_io_methods coalescingMethods = {
    3,
    coalescingClose,
    coalescingRead,
    coalescingWrite,
    coalescingTruncate,
    coalescingSync,
    coalescingFileSize,
    coalescingLock,
    coalescingUnlock,
    coalescingCheckReservedLock,
    coalescingFileControl,
    coalescingSectorSize,
    coalescingDeviceCharacteristics,
    coalescingShmMap,
    coalescingShmLock,
    coalescingShmBarrier,
    coalescingShmUnmap,
    coalescingFetch,
    coalescingUnfetch,
};

static int coalescingOpen(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *base, int flags, int *outFlags) {
    (void)vfs;
    CoalescingFile *file = (CoalescingFile *)base;
    memset(file, 0, sizeof(*file));
    file->real = (sqlite3_file *)&file[1];
    int rc = defaultVFS->xOpen(defaultVFS, name, file->real, flags, outFlags);
    if (rc != SQLITE_OK) {
        base->pMethods = NULL;  // SQLite then does not call xClose
        return rc;
    }
    // The default VFS's methods are version 3 (shared memory and memory mapping): ours mirror them.
    if (!file->real->pMethods || file->real->pMethods->iVersion < 3) {
        if (file->real->pMethods) file->real->pMethods->xClose(file->real);
        base->pMethods = NULL;
        return SQLITE_CANTOPEN;
    }
    if ((flags & SQLITE_OPEN_WAL) && name) {
        file->isWAL = 1;
        // The WAL's name leads to its database file's object (SQLite 3.31+).
        sqlite3_file *database = sqlite3_database_file_object(name);
        if (database && database->pMethods == &coalescingMethods) {
            file->partner = (CoalescingFile *)database;
            file->partner->partner = file;
        }
    }
    base->pMethods = &coalescingMethods;
    return SQLITE_OK;
}

static int coalescingDelete(sqlite3_vfs *vfs, const char *name, int syncDirectory) {
    (void)vfs;
    return defaultVFS->xDelete(defaultVFS, name, syncDirectory);
}

static int coalescingAccess(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    (void)vfs;
    return defaultVFS->xAccess(defaultVFS, name, flags, out);
}

static int coalescingFullPathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return defaultVFS->xFullPathname(defaultVFS, name, size, out);
}

static void *coalescingDlOpen(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return defaultVFS->xDlOpen(defaultVFS, name);
}

static void coalescingDlError(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    defaultVFS->xDlError(defaultVFS, size, out);
}

static void (*coalescingDlSym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    (void)vfs;
    return defaultVFS->xDlSym(defaultVFS, handle, symbol);
}

static void coalescingDlClose(sqlite3_vfs *vfs, void *handle) {
    (void)vfs;
    defaultVFS->xDlClose(defaultVFS, handle);
}

static int coalescingRandomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return defaultVFS->xRandomness(defaultVFS, size, out);
}

static int coalescingSleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return defaultVFS->xSleep(defaultVFS, microseconds);
}

static int coalescingCurrentTime(sqlite3_vfs *vfs, double *out) {
    (void)vfs;
    return defaultVFS->xCurrentTime(defaultVFS, out);
}

static int coalescingGetLastError(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return defaultVFS->xGetLastError ? defaultVFS->xGetLastError(defaultVFS, size, out) : 0;
}

static int coalescingCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    (void)vfs;
    return defaultVFS->xCurrentTimeInt64(defaultVFS, out);
}

static pthread_once_t registration = PTHREAD_ONCE_INIT;
static int registrationResult = SQLITE_ERROR;

static void registerOnce(void) {
    defaultVFS = sqlite3_vfs_find(NULL);
    if (!defaultVFS || defaultVFS->iVersion < 2) {
        registrationResult = SQLITE_ERROR;
        return;
    }
    coalescingVFS.iVersion = 2;
    coalescingVFS.szOsFile = (int)sizeof(CoalescingFile) + defaultVFS->szOsFile;
    coalescingVFS.mxPathname = defaultVFS->mxPathname;
    coalescingVFS.zName = FLEET_WAL_COALESCING_VFS;
    coalescingVFS.xOpen = coalescingOpen;
    coalescingVFS.xDelete = coalescingDelete;
    coalescingVFS.xAccess = coalescingAccess;
    coalescingVFS.xFullPathname = coalescingFullPathname;
    coalescingVFS.xDlOpen = coalescingDlOpen;
    coalescingVFS.xDlError = coalescingDlError;
    coalescingVFS.xDlSym = coalescingDlSym;
    coalescingVFS.xDlClose = coalescingDlClose;
    coalescingVFS.xRandomness = coalescingRandomness;
    coalescingVFS.xSleep = coalescingSleep;
    coalescingVFS.xCurrentTime = coalescingCurrentTime;
    coalescingVFS.xGetLastError = coalescingGetLastError;
    coalescingVFS.xCurrentTimeInt64 = coalescingCurrentTimeInt64;
    registrationResult = sqlite3_vfs_register(&coalescingVFS, 0);
}

int fleet_wal_coalescing_register(void) {
    pthread_once(&registration, registerOnce);
    return registrationResult;
}

uint64_t fleet_wal_coalescing_wal_writes(sqlite3 *db) {
    sqlite3_file *wal = NULL;
    if (sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal) != SQLITE_OK || !wal) return UINT64_MAX;
    if (wal->pMethods != &coalescingMethods || !((CoalescingFile *)wal)->isWAL) return UINT64_MAX;
    return ((CoalescingFile *)wal)->writes;
}
