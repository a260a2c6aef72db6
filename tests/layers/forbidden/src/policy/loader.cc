// A fixture: the policy layer reading the store.
#include "store/store.h"
