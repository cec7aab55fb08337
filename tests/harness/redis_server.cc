#include "tests/harness/redis_server.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>

namespace ffpod::testing {
namespace {

using std::chrono::steady_clock;

std::string Openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = RunCommand(argv, std::chrono::seconds(60));
  if (r.status != 0) {
    throw std::runtime_error("openssl " + args[0] + " failed (" + std::to_string(r.status) +
                             "): " + r.err);
  }
  return r.out;
}

struct ContextFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};

RedisReply Convert(const redisReply* r) {
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      return RedisReply::Integer(r->integer);
    case REDIS_REPLY_STATUS:
      return RedisReply::Status(std::string(r->str, r->len));
    case REDIS_REPLY_ERROR:
      return RedisReply::Error(std::string(r->str, r->len));
    case REDIS_REPLY_STRING:
      return RedisReply::String(std::string(r->str, r->len));
    case REDIS_REPLY_ARRAY: {
      std::vector<RedisReply> elements;
      for (size_t i = 0; i < r->elements; ++i) elements.push_back(Convert(r->element[i]));
      return RedisReply::Array(std::move(elements));
    }
    default:
      return RedisReply::Nil();
  }
}

std::string WithUserInfo(const std::string& userinfo) {
  return userinfo.empty() ? "" : userinfo + "@";
}

}  // namespace

TestCertificates MakeTestCertificates(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  std::filesystem::path abs = std::filesystem::absolute(dir);
  auto file = [&abs](const char* name) { return (abs / name).string(); };
  TestCertificates c{file("ca.crt"),     file("ca.key"),     file("server.crt"),
                     file("server.key"), file("client.crt"), file("client.key")};
  WriteFile(abs / "ca.cnf",
            "[req]\ndistinguished_name = dn\nx509_extensions = v3_ca\nprompt = no\n"
            "[dn]\nCN = ffpod test CA\n"
            "[v3_ca]\nbasicConstraints = critical,CA:TRUE\n"
            "keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n");
  WriteFile(abs / "leaf.cnf",
            "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = localhost\n"
            "[v3_server]\nbasicConstraints = CA:FALSE\n"
            "keyUsage = critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage = serverAuth\n"
            "subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1\n"
            "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n"
            "[v3_client]\nbasicConstraints = CA:FALSE\n"
            "keyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\n");
  const std::vector<std::string> ec_key = {"-newkey", "ec", "-pkeyopt",
                                           "ec_paramgen_curve:prime256v1", "-nodes"};
  std::vector<std::string> ca = {"req", "-x509",   "-config", file("ca.cnf"), "-days",
                                 "2",   "-keyout", c.ca_key,  "-out",         c.ca_cert};
  ca.insert(ca.end(), ec_key.begin(), ec_key.end());
  Openssl(ca);
  // A key, a request and a certificate signed by the CA with the extensions of `section`.
  auto leaf = [&](const std::string& cert, const std::string& key, const char* subject,
                  const char* section) {
    std::string csr_path = cert + ".csr";
    std::vector<std::string> csr = {"req",   "-new",    "-config", file("leaf.cnf"), "-subj",
                                    subject, "-keyout", key,       "-out",           csr_path};
    csr.insert(csr.end(), ec_key.begin(), ec_key.end());
    Openssl(csr);
    Openssl({"x509", "-req", "-in", csr_path, "-CA", c.ca_cert, "-CAkey", c.ca_key,
             "-CAcreateserial", "-CAserial", file("ca.srl"), "-days", "2", "-out", cert, "-extfile",
             file("leaf.cnf"), "-extensions", section});
  };
  leaf(c.server_cert, c.server_key, "/CN=localhost", "v3_server");
  leaf(c.client_cert, c.client_key, "/CN=ffpod-test-client", "v3_client");
  return c;
}

RedisServer::RedisServer(RedisServerOptions options)
    : options_(std::move(options)),
      port_(options_.port != 0 ? options_.port : FreePort()),
      unix_socket_(dir_ / "redis.sock") {
  if (options_.tls) certs_ = MakeTestCertificates(dir_.path() / "tls");
  if (options_.start) Start();
}

RedisServer::~RedisServer() {
  if (running()) Signal(SIGKILL);
}

void RedisServer::WriteConfig() const {
  std::string conf;
  conf += "bind 127.0.0.1 -::1\n";
  conf += "protected-mode no\n";
  conf += "daemonize no\n";
  conf += "dir " + dir_.path().string() + "\n";
  conf += "logfile " + (dir_ / "redis.log") + "\n";
  conf += "unixsocket " + unix_socket_ + "\n";
  conf += "unixsocketperm 700\n";
  conf += "appendonly yes\n";
  conf += "appendfsync always\n";
  conf += "save \"\"\n";
  conf += "repl-diskless-sync-delay 0\n";  // a replica syncs at once (REPLICAOF in tests)
  if (options_.tls) {
    conf += "port 0\n";
    conf += "tls-port " + std::to_string(port_) + "\n";
    conf += "tls-cert-file " + certs_.server_cert + "\n";
    conf += "tls-key-file " + certs_.server_key + "\n";
    conf += "tls-ca-cert-file " + certs_.ca_cert + "\n";
    conf += options_.tls_client_auth ? "tls-auth-clients yes\n" : "tls-auth-clients no\n";
  } else {
    conf += "port " + std::to_string(port_) + "\n";
  }
  if (!options_.password.empty()) conf += "requirepass " + options_.password + "\n";
  if (!options_.acl_user.empty()) {
    conf += "user " + options_.acl_user + " on >" + options_.acl_password + " ~* &* +@all\n";
  }
  WriteFile(dir_.path() / "redis.conf", conf);
}

void RedisServer::Start() {
  if (running()) return;
  WriteConfig();
  std::string config = dir_ / "redis.conf";
  std::string program = "redis-server";
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // The server dies with the test process, whatever happens to it.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 0);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    char* argv[] = {program.data(), config.data(), nullptr};
    ::execvp(argv[0], argv);
    ::_exit(127);
  }
  pid_ = pid;
  auto deadline = steady_clock::now() + std::chrono::seconds(30);
  std::string last;
  while (steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      // A free port chosen for the first start can be taken by a parallel test before Redis
      // binds it: choose another. (A restart keeps its port: the clients know that one.)
      if (!started_once_ && options_.port == 0 && ++bind_retries_ <= 5 &&
          Log().find("Address already in use") != std::string::npos) {
        port_ = FreePort();
        Start();
        return;
      }
      throw std::runtime_error("redis-server exited during start-up; log:\n" + Log());
    }
    try {
      RedisReply pong = Command({"PING"});
      if (pong.type == RedisReply::Type::kStatus && pong.str == "PONG") {
        started_once_ = true;
        return;
      }
      last = pong.ToString();  // e.g. LOADING while the append-only file is replayed
    } catch (const std::runtime_error& e) {
      last = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Signal(SIGKILL);
  throw std::runtime_error("redis-server did not answer PING within 30 s (" + last + "); log:\n" +
                           Log());
}

void RedisServer::Stop() {
  if (running()) Signal(SIGTERM);
}

void RedisServer::Kill() {
  if (running()) Signal(SIGKILL);
}

void RedisServer::Freeze() const {
  if (running()) ::kill(pid_, SIGSTOP);
}

void RedisServer::Thaw() const {
  if (running()) ::kill(pid_, SIGCONT);
}

void RedisServer::Signal(int sig) {
  ::kill(pid_, sig);
  auto deadline = steady_clock::now() + std::chrono::seconds(30);
  int status = 0;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
}

std::string RedisServer::Url(const std::string& userinfo, int db) const {
  std::string path = db != 0 ? "/" + std::to_string(db) : "";
  if (options_.tls) {
    return "rediss://" + WithUserInfo(userinfo) + "localhost:" + std::to_string(port_) + path +
           "?ca_file=" + certs_.ca_cert;
  }
  return "redis://" + WithUserInfo(userinfo) + "127.0.0.1:" + std::to_string(port_) + path;
}

std::string RedisServer::UnixUrl(const std::string& userinfo, int db) const {
  return "unix://" + WithUserInfo(userinfo) + unix_socket_ +
         (db != 0 ? "?db=" + std::to_string(db) : "");
}

RedisReply RedisServer::Command(const std::vector<std::string>& argv, int db) const {
  timeval connect_timeout{5, 0};
  std::unique_ptr<redisContext, ContextFree> c(
      redisConnectUnixWithTimeout(unix_socket_.c_str(), connect_timeout));
  if (!c || c->err) {
    throw std::runtime_error("connect to " + unix_socket_ + ": " +
                             (c ? std::string(c->errstr) : "out of memory"));
  }
  timeval io_timeout{60, 0};
  redisSetTimeout(c.get(), io_timeout);
  auto run = [&](const std::vector<std::string>& args) {
    std::vector<const char*> ptrs;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    std::unique_ptr<redisReply, ReplyFree> reply(static_cast<redisReply*>(
        redisCommandArgv(c.get(), static_cast<int>(args.size()), ptrs.data(), lens.data())));
    if (!reply) throw std::runtime_error(args[0] + " over " + unix_socket_ + ": " + c->errstr);
    return Convert(reply.get());
  };
  if (!options_.password.empty()) {
    RedisReply auth = run({"AUTH", options_.password});
    if (auth.IsError()) throw std::runtime_error("AUTH: " + auth.str);
  }
  if (db != 0) {
    RedisReply select = run({"SELECT", std::to_string(db)});
    if (select.IsError()) throw std::runtime_error("SELECT: " + select.str);
  }
  return run(argv);
}

void RedisServer::ReplicaOf(const RedisServer& primary) const {
  RedisReply set = Command({"REPLICAOF", "127.0.0.1", std::to_string(primary.port())});
  if (set.IsError()) throw std::runtime_error("REPLICAOF: " + set.str);
  auto deadline = steady_clock::now() + std::chrono::seconds(30);
  std::string info;
  while (steady_clock::now() < deadline) {
    info = Command({"INFO", "replication"}).str;
    if (info.find("master_link_status:up") != std::string::npos &&
        info.find("master_sync_in_progress:0") != std::string::npos) {
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("replica on port " + std::to_string(port_) +
                           " did not synchronise with port " + std::to_string(primary.port()) +
                           " within 30 s:\n" + info + "\nlog:\n" + Log());
}

void RedisServer::PromoteToPrimary() const {
  RedisReply promoted = Command({"REPLICAOF", "NO", "ONE"});
  if (promoted.IsError()) throw std::runtime_error("REPLICAOF NO ONE: " + promoted.str);
}

std::string RedisServer::Role() const {
  RedisReply role = Command({"ROLE"});
  return role.elements.empty() ? role.ToString() : role.elements[0].str;
}

std::string RedisServer::Log() const { return ReadFile(dir_.path() / "redis.log"); }

}  // namespace ffpod::testing
