// A fixture: a file that keeps its layer.
#include "common/status.h"
