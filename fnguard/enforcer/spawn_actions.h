// Which posix_spawn_file_actions_t objects received a change of directory
// (posix_spawn_file_actions_addchdir_np/addfchdir_np). Actions run in order
// in the spawned child, so a relative path used after such an action (by a
// later addopen, or as the program of posix_spawn) resolves against a
// directory fnguard cannot know when it decides: the file hooks and the
// exec hooks treat that combination as unverifiable.
//
// A fixed table of objects (no allocation, lock-free), cleared by
// posix_spawn_file_actions_init/destroy. Every change of directory is
// recorded before glibc adds it: when the table is full, the action is not
// added and add(f)chdir_np fails with ENOMEM (as glibc's own does when it
// cannot grow the list), so no object changes directory untracked, and
// nothing outlives the objects. (Until 2026-11-24 a full table set
// a flag that made every object count as changing directory for the rest of
// the process: every later relative addopen and relative spawn program was
// refused.) The objects of a program that never destroys them stay in the
// table; once it holds kSpawnChdirSlots of them, further chdir actions fail.
// Implemented in hooks_files.cc.
#pragma once

#include <cstddef>

namespace fnguard::enforcer {

inline constexpr size_t kSpawnChdirSlots = 128;

// Records that `actions` is about to receive a change of directory. False
// when it cannot be recorded (the table is full): the action must not be
// added. `*added` is set when this call took a new slot (to forget it again
// when adding the action fails).
bool spawn_actions_note_chdir(const void* actions, bool* added);
void spawn_actions_forget(const void* actions);
// True when `actions` (may be null) received a change of directory.
bool spawn_actions_change_directory(const void* actions);

}  // namespace fnguard::enforcer
