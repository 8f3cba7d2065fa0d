/**
 * @file ipc.h
 * @brief libipc: inter-process communication on one POSIX host.
 *
 * The umbrella header: includes every area's header. See ipc/common.h for the
 * conventions (error codes, ownership, thread safety) that all areas share.
 */
#ifndef IPC_H
#define IPC_H

#include "ipc/common.h"
#include "ipc/shm.h"
#include "ipc/sem.h"
#include "ipc/sync.h"
#include "ipc/sig.h"
#include "ipc/array.h"
#include "ipc/mq.h"

#endif /* IPC_H */
