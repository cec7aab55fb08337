// A real redis-server for tests: its own temporary directory, a free TCP port (plain or TLS),
// a unix socket, persistence (appendonly, fsync on every write, so a restart or even a SIGKILL
// keeps what was acknowledged), optional password and ACL user. Start/Stop/Kill/Restart keep
// the same port, socket and data. Test-only code; single-threaded; throws std::runtime_error
// when the server cannot be started or reached (a test setup failure, not a test result).
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "supervisor/queue/redis_reply.h"
#include "tests/harness/harness.h"

namespace ffpod::testing {

// A throwaway CA, a server certificate it signed (valid for localhost, 127.0.0.1 and ::1) and a
// client certificate it signed (PEM files, absolute paths), made with the openssl command-line
// tool.
struct TestCertificates {
  std::string ca_cert;
  std::string ca_key;
  std::string server_cert;
  std::string server_key;
  std::string client_cert;
  std::string client_key;
};
TestCertificates MakeTestCertificates(const std::filesystem::path& dir);

struct RedisServerOptions {
  std::string password;          // requirepass: the default user's password (empty: none)
  std::string acl_user;          // an extra ACL user with every permission (empty: none)
  std::string acl_password;      // its password
  bool tls = false;              // port() speaks TLS only (certificates from MakeTestCertificates)
  bool tls_client_auth = false;  // with tls: clients must present a certificate from the CA
  int port = 0;                  // 0: a free port
  bool start = true;             // start in the constructor
};

class RedisServer {
 public:
  explicit RedisServer(RedisServerOptions options = {});
  ~RedisServer();  // SIGKILL if still running (the data directory goes away anyway)
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Starts redis-server and waits until it answers PING with its dataset loaded (30 s limit).
  void Start();
  // SIGTERM, then waits for the exit (redis-server flushes the append-only file first).
  void Stop();
  // SIGKILL, then waits for the exit: like a crash or an OOM kill.
  void Kill();
  // SIGSTOP / SIGCONT: a server that stops answering without closing its connections (a hung
  // or partitioned primary). Thaw before Stop (a stopped server handles no SIGTERM).
  void Freeze() const;
  void Thaw() const;
  void Restart() {
    Stop();
    Start();
  }
  bool running() const { return pid_ > 0; }

  int port() const { return port_; }
  const std::string& unix_socket() const { return unix_socket_; }
  const TestCertificates& certificates() const { return certs_; }  // empty unless tls
  // `redis://127.0.0.1:P`, or `rediss://localhost:P?ca_file=...` with tls; `userinfo` (like
  // ":secret" or "user:secret") and `db` are put in when given.
  std::string Url(const std::string& userinfo = "", int db = 0) const;
  std::string UnixUrl(const std::string& userinfo = "", int db = 0) const;

  // Replication (plain TCP servers of this harness on loopback). ReplicaOf: REPLICAOF the
  // primary, then waits until the link is up and the first synchronisation is done (30 s limit;
  // throws). PromoteToPrimary: REPLICAOF NO ONE (what a failover does to the replica it
  // promotes); the server takes writes at once. Role: ROLE's first element ("master", "slave").
  void ReplicaOf(const RedisServer& primary) const;
  void PromoteToPrimary() const;
  std::string Role() const;

  // Runs one command synchronously over the unix socket (hiredis), as the default user, in
  // database `db`. Throws when the server cannot be reached.
  RedisReply Command(const std::vector<std::string>& argv, int db = 0) const;

  std::string Log() const;  // the server's log file

 private:
  RedisServerOptions options_;
  TempDir dir_;
  int port_;
  bool started_once_ = false;  // a restart keeps port_
  int bind_retries_ = 0;
  std::string unix_socket_;
  TestCertificates certs_;
  pid_t pid_ = -1;

  void WriteConfig() const;
  void Signal(int sig);
};

}  // namespace ffpod::testing
