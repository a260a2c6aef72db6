// A fixture: the server importing the command line.
#include "cli/commands.h"
#include "engine/engine.h"
