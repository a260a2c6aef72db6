// clang-format off
// A fixture: one backend including the other.
#include <libpq-fe.h>
#include "store/postgres/postgres_store.h"
#include "store/store.h"
