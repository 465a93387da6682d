/*
** ddl.h: CREATE, DROP and COPY: the statements that change the catalog
** or load data.
*/
#ifndef SL_DDL_H
#define SL_DDL_H

#include "engine/session_int.h"

int sl_ddl_create(sl_session *s, const sl_stmt *st, const char *text,
                  sl_error *err);
int sl_ddl_drop(sl_session *s, const sl_stmt *st, sl_error *err);
int sl_ddl_copy(sl_session *s, const sl_stmt *st, sl_error *err);

#endif
