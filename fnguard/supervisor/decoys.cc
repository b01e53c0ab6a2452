// See decoys.h.
#include "fnguard/supervisor/decoys.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

namespace fnguard::supervisor {
namespace {

// Random characters from `alphabet`. The values only have to look real and
// differ between starts; without getrandom (a very old kernel) the clock
// and the pid stand in.
std::string random_text(const char* alphabet, size_t count) {
  unsigned char bytes[64];
  if (count > sizeof bytes) count = sizeof bytes;
  if (getrandom(bytes, count, GRND_NONBLOCK) != static_cast<ssize_t>(count)) {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t x = static_cast<uint64_t>(ts.tv_nsec) ^ (static_cast<uint64_t>(ts.tv_sec) << 20) ^
                 (static_cast<uint64_t>(getpid()) << 40);
    for (size_t i = 0; i < count; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      bytes[i] = static_cast<unsigned char>(x);
    }
  }
  size_t n = std::strlen(alphabet);
  std::string out;
  for (size_t i = 0; i < count; ++i) out.push_back(alphabet[bytes[i] % n]);
  return out;
}

bool has_var(const std::vector<std::string>& env, const char* name) {
  size_t len = std::strlen(name);
  for (const std::string& e : env) {
    if (e.size() > len && e.compare(0, len, name) == 0 && e[len] == '=') return true;
  }
  return false;
}

bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

void Decoys::plant(const policy::HoneypotPolicy& honeypots, std::vector<std::string>* env) {
  if (!honeypots.env && honeypots.files.empty()) return;
  // The shape of an AWS access key id (AKIA + 16 base32 characters) and of
  // its 40-character secret.
  key_id_ = "AKIA" + random_text("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16);
  secret_ = random_text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40);
  content_ =
      "[default]\naws_access_key_id = " + key_id_ + "\naws_secret_access_key = " + secret_ + "\n";
  if (honeypots.env && env != nullptr) {
    if (!has_var(*env, kDecoyKeyIdVar)) env->push_back(std::string(kDecoyKeyIdVar) + "=" + key_id_);
    if (!has_var(*env, kDecoySecretVar))
      env->push_back(std::string(kDecoySecretVar) + "=" + secret_);
  }
  for (const std::string& path : honeypots.files) plant_file(path);
}

bool Decoys::make_parents(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    std::string dir = path.substr(0, slash);
    if (mkdir(dir.c_str(), 0700) == 0) {
      dirs_.push_back(dir);
    } else if (errno != EEXIST) {
      problems_.push_back("honeypot " + path + " not planted: cannot create " + dir + ": " +
                          strerror(errno));
      return false;
    }
  }
  return true;
}

void Decoys::plant_file(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {  // exists: watched, not replaced
    if (S_ISDIR(st.st_mode)) {
      problems_.push_back("honeypot " + path +
                          " is an existing directory: every open of it (a listing, say) is "
                          "reported as a touch; name a file");
    }
    return;
  }
  if (path.empty() || path[0] != '/' || !make_parents(path)) return;
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno != EEXIST) {
      problems_.push_back("honeypot " + path + " not planted: " + strerror(errno));
    }
    return;
  }
  bool ok = write_all(fd, content_) && fstat(fd, &st) == 0;
  int saved = errno;
  close(fd);
  if (!ok) {
    unlink(path.c_str());
    problems_.push_back("honeypot " + path + " not planted: " + strerror(saved));
    return;
  }
  files_.push_back({path, st.st_dev, st.st_ino});
}

namespace {

// Whether `path` is still the decoy planted there: the same file (an inode
// number can come back for a new file, so the content is compared too).
bool still_ours(const std::string& path, dev_t dev, ino_t ino, const std::string& content) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_dev != dev ||
      st.st_ino != ino || st.st_size != static_cast<off_t>(content.size())) {
    return false;
  }
  int fd = open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return false;
  std::string now(content.size(), '\0');
  ssize_t n = read(fd, now.data(), now.size());
  close(fd);
  return n == static_cast<ssize_t>(content.size()) && now == content;
}

}  // namespace

Decoys::~Decoys() {
  int saved = errno;
  // The program may have replaced a decoy: leave what is not ours.
  for (const Planted& f : files_) {
    if (still_ours(f.path, f.dev, f.ino, content_)) unlink(f.path.c_str());
  }
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) rmdir(it->c_str());  // only if empty
  errno = saved;
}

}  // namespace fnguard::supervisor
