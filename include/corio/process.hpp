// corio/process.hpp - corio::process, every core from one program: the
// codec, ProcessPoolExecutor, multiprocessing's Process and Pool, and the
// aiomultiprocess model (run(), AsyncPool).
//
// Mirrors concurrent.futures.ProcessPoolExecutor, multiprocessing and
// aiomultiprocess. See docs/process.md.
#pragma once

#include "corio/process/aio.hpp"
#include "corio/process/codec.hpp"
#include "corio/process/errors.hpp"
#include "corio/process/executor.hpp"
#include "corio/process/process.hpp"
#include "corio/process/registry.hpp"
