/*
** owner.h: the one sluice process that owns a database (DESIGN §1).
**
** The owner holds an exclusive lock on a file beside the database, named
** like SQLite's own companions: DB-owner next to DB-wal and DB-shm. The
** lock is flock(2)'s, so the kernel drops it when the owner exits in any
** way (kill -9 included): a crashed owner never blocks the next start. The
** file holds the owner's pid, host and start time for the message a second
** process shows ("database shop.db is owned by sluice process 4242 ...")
** and for an operator who reads it with cat. The file itself is never
** removed (removing it would let two processes lock two different files).
*/
#ifndef SL_OWNER_H
#define SL_OWNER_H

typedef struct sl_owner sl_owner;

/* Tries to become the owner of the database at db_path without waiting.
** Returns the held lock (release it with sl_owner_release when the
** database is closed), or NULL with *why set to a malloc'd sentence the
** caller frees: who owns the database ("database X is owned by sluice
** process N (started ...)"), or why the lock file could not be opened
** ("database X cannot be written: cannot open its lock file X-owner:
** Permission denied"). */
sl_owner *sl_owner_acquire(const char *db_path, char **why);

/* Empties the lock file and releases the lock (NULL is ignored). */
void sl_owner_release(sl_owner *o);

#endif
