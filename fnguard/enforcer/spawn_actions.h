// Which posix_spawn_file_actions_t objects received a change of directory
// (posix_spawn_file_actions_addchdir_np/addfchdir_np). Actions run in order
// in the spawned child, so a relative path used after such an action (by a
// later addopen, or as the program of posix_spawn) resolves against a
// directory fnguard cannot know when it decides: the file hooks and the
// exec hooks treat that combination as unverifiable.
//
// A fixed table of objects (no allocation, lock-free), cleared by
// posix_spawn_file_actions_init/destroy; when it is full, every object
// counts as having changed directory (fail closed). Implemented in
// hooks_files.cc.
#pragma once

namespace fnguard::enforcer {

void spawn_actions_note_chdir(const void* actions);
void spawn_actions_forget(const void* actions);
// True when `actions` (may be null) received a change of directory.
bool spawn_actions_change_directory(const void* actions);

}  // namespace fnguard::enforcer
