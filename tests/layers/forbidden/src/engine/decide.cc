// A fixture: the engine reaching up into the HTTP adapter.
#include "api/server.h"
#include "policy/policy.h"
