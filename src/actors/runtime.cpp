// The actor runtime (being written).
#include "corio/actors/actor.hpp"
