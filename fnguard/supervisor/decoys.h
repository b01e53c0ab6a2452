// Honeypots (policy `honeypots`): decoys the supervisor plants before the
// program starts, so that code reaching for credentials touches one.
//
//   files  each path in honeypots.files that does not exist yet is created
//          (mode 0600, missing parent directories 0700) with content shaped
//          like an AWS shared credentials file holding a fake key pair. A
//          path that already exists is left as it is; an access to it is
//          reported all the same (the rules come from the policy, not from
//          the planting); an existing directory is named in problems().
//   env    AWS_BACKUP_ACCESS_KEY_ID and AWS_BACKUP_SECRET_ACCESS_KEY are added
//          to the program's environment, each unless already set: names that
//          look like credentials to code that collects them and that no AWS
//          SDK reads, so no library picks them up and fails with them. The
//          real AWS_ACCESS_KEY_ID & co. are never touched.
//
// The decoy key pair is random per start and the same in files and
// environment. Seeing a decoy is what the enforcer reports: the compiled
// policy denies every decoy file (and, with env, /proc/**/environ) first in
// files.read and files.write, and such an event has kind "honeypot". What
// is not seen: the decoy values leaving in a request body (the enforcer does
// not read what a process sends), or a read of the environment from inside
// the process (os.environ, getenv).
//
// Teardown (the destructor) removes the files this start created, if they
// are still the files it created (same inode, same content), and then the
// directories it created, if empty. Planting never fails the start: what could not be
// planted is listed in problems() for an `enforcement` event.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "fnguard/policy/policy.h"

namespace fnguard::supervisor {

inline constexpr char kDecoyKeyIdVar[] = "AWS_BACKUP_ACCESS_KEY_ID";
inline constexpr char kDecoySecretVar[] = "AWS_BACKUP_SECRET_ACCESS_KEY";

class Decoys {
 public:
  Decoys() = default;
  Decoys(const Decoys&) = delete;
  Decoys& operator=(const Decoys&) = delete;
  ~Decoys();

  // Plants what `honeypots` asks for; with `env`, appends the decoy
  // variables that `env` (KEY=VALUE entries) does not have yet.
  void plant(const policy::HoneypotPolicy& honeypots, std::vector<std::string>* env);

  // One line per decoy that could not be planted, and why.
  const std::vector<std::string>& problems() const { return problems_; }
  // The fake key pair (empty before plant() or without honeypots).
  const std::string& key_id() const { return key_id_; }
  const std::string& secret() const { return secret_; }

 private:
  struct Planted {
    std::string path;
    dev_t dev = 0;
    ino_t ino = 0;
  };
  void plant_file(const std::string& path);
  bool make_parents(const std::string& path);

  std::string key_id_;
  std::string secret_;
  std::string content_;  // of every decoy file
  std::vector<Planted> files_;
  std::vector<std::string> dirs_;  // created by us, in creation order
  std::vector<std::string> problems_;
};

}  // namespace fnguard::supervisor
