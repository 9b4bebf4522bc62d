// corio/actors.hpp - virtual actors (Dapr's model): everything of corio::actors.
#pragma once

#include "corio/actors/actor.hpp"
#include "corio/actors/dapr.hpp"
#include "corio/actors/http.hpp"
#include "corio/actors/store.hpp"
