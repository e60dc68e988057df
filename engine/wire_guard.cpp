#include "engine/wire_guard.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <future>
#include <type_traits>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "flows/errc.hpp"

namespace orca {

namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

/// What the guard keeps of a connection, to close it when it stops.
class connection {
public:
  virtual ~connection() = default;
  virtual void close() = 0;
};

template <class Stream>
constexpr bool is_tls = !std::is_same_v<Stream, tcp::socket>;

/// How long a client has to finish its TLS handshake.
constexpr auto handshake_limit = std::chrono::seconds(10);

/// One client's connection and its twin to CAF, each a plain socket or a
/// TLS stream. Lives as long as a pending operation holds it.
template <class Stream>
class relay : public connection,
              public std::enable_shared_from_this<relay<Stream>> {
public:
  relay(Stream client, Stream upstream, std::shared_ptr<const wire_rules> rules,
        std::function<void(const std::string&)> warn,
        std::shared_ptr<std::atomic<int>> live)
      : client_(std::move(client)), upstream_(std::move(upstream)),
        deadline_(client_.lowest_layer().get_executor()),
        framing_(std::move(rules)), warn_(std::move(warn)),
        live_(std::move(live)) {
    ++*live_;
  }

  ~relay() override {
    --*live_;
  }

  void start(const tcp::endpoint& target) {
    auto self = this->shared_from_this();
    if constexpr (is_tls<Stream>) {
      // The client proves who it is before anything reaches CAF.
      deadline_.expires_after(handshake_limit);
      deadline_.async_wait([self](const boost::system::error_code& ec) {
        if (!ec)
          self->close();
      });
      client_.async_handshake(
        ssl::stream_base::server,
        [self, target](const boost::system::error_code& ec) {
          self->deadline_.cancel();
          if (ec)
            return self->close();
          self->connect(target);
        });
    } else {
      connect(target);
    }
  }

  void close() override {
    boost::system::error_code ignored;
    deadline_.cancel();
    client_.lowest_layer().close(ignored);
    upstream_.lowest_layer().close(ignored);
  }

private:
  void connect(const tcp::endpoint& target) {
    auto self = this->shared_from_this();
    upstream_.lowest_layer().async_connect(
      target, [self](const boost::system::error_code& ec) {
        if (ec)
          return self->close();
        if constexpr (is_tls<Stream>) {
          self->upstream_.async_handshake(
            ssl::stream_base::client,
            [self](const boost::system::error_code& hec) {
              if (hec)
                return self->close();
              self->read_client();
              self->read_upstream();
            });
        } else {
          self->read_client();
          self->read_upstream();
        }
      });
  }

  void read_client() {
    pump(client_, upstream_, from_client_, &relay::check);
  }

  void read_upstream() {
    pump(upstream_, client_, from_upstream_, nullptr);
  }

  /// Moves bytes from `from` to `to` through `buffer`, one read then one
  /// write at a time, until either side fails; `screen` (if any) sees each
  /// read first and may refuse it, which closes both.
  template <std::size_t N>
  void pump(Stream& from, Stream& to, std::array<char, N>& buffer,
            bool (relay::*screen)(std::size_t)) {
    auto self = this->shared_from_this();
    from.async_read_some(
      net::buffer(buffer),
      [self, &from, &to, &buffer, screen](const boost::system::error_code& ec,
                                          std::size_t n) {
        if (ec || (screen && !(self.get()->*screen)(n)))
          return self->close();
        net::async_write(to, net::buffer(buffer, n),
                         [self, &from, &to, &buffer, screen](
                           const boost::system::error_code& wec, std::size_t) {
                           if (wec)
                             return self->close();
                           self->pump(from, to, buffer, screen);
                         });
      });
  }

  /// Follows the framing through `n` new bytes from the client; false if a
  /// message is refused (and says why).
  bool check(std::size_t n) {
    if (framing_.feed(from_client_.data(), n))
      return true;
    boost::system::error_code ec;
    auto peer = client_.lowest_layer().remote_endpoint(ec);
    warn_("a client"
          + (ec ? std::string{}
                : " at " + peer.address().to_string() + ":"
                 + std::to_string(peer.port()))
          + " sent " + framing_.refusal() + ": it is cut off");
    return false;
  }

  Stream client_;
  Stream upstream_;
  net::steady_timer deadline_;
  wire_framing framing_;
  std::function<void(const std::string&)> warn_;
  std::shared_ptr<std::atomic<int>> live_;
  std::array<char, 65536> from_client_;
  std::array<char, 65536> from_upstream_;
};

using tls_stream = ssl::stream<tcp::socket>;

/// Loads `files` into `ctx`: our certificate and key, and the CA whose
/// signature the peer's certificate must carry.
caf::error load_tls(ssl::context& ctx, const tls_files& files) {
  auto step = [&](const char* what, const std::string& file, auto&& load) {
    boost::system::error_code ec;
    load(ec);
    if (ec)
      return make_error(errc::invalid_argument,
                        std::string{"cannot load "} + what + " " + file + ": "
                          + ec.message());
    return caf::error{};
  };
  if (auto err = step("certificate", files.cert, [&](auto& ec) {
        ctx.use_certificate_chain_file(files.cert, ec);
      }))
    return err;
  if (auto err = step("private key", files.key, [&](auto& ec) {
        ctx.use_private_key_file(files.key, ssl::context::pem, ec);
      }))
    return err;
  if (auto err = step("CA", files.ca,
                      [&](auto& ec) { ctx.load_verify_file(files.ca, ec); }))
    return err;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2
                  | ssl::context::no_sslv3 | ssl::context::no_tlsv1
                  | ssl::context::no_tlsv1_1);
  ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  return caf::none;
}

} // namespace

struct wire_guard::impl {
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  tcp::endpoint target;
  std::shared_ptr<const wire_rules> rules;
  std::function<void(const std::string&)> warn;
  /// With TLS: toward clients, and toward CAF.
  std::unique_ptr<ssl::context> server_tls;
  std::unique_ptr<ssl::context> upstream_tls;
  std::vector<std::weak_ptr<connection>> relays;
  std::shared_ptr<std::atomic<int>> live =
    std::make_shared<std::atomic<int>>(0);
  std::thread thread;

  void accept() {
    acceptor.async_accept([this](const boost::system::error_code& ec,
                                 tcp::socket client) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open())
          return;
        accept();
        return;
      }
      std::shared_ptr<connection> r;
      if (server_tls) {
        auto t = std::make_shared<relay<tls_stream>>(
          tls_stream{std::move(client), *server_tls},
          tls_stream{tcp::socket{io}, *upstream_tls}, rules, warn, live);
        t->start(target);
        r = t;
      } else {
        auto t = std::make_shared<relay<tcp::socket>>(
          std::move(client), tcp::socket{io}, rules, warn, live);
        t->start(target);
        r = t;
      }
      // Forget relays that ended, now and then.
      if (relays.size() > 64)
        relays.erase(std::remove_if(relays.begin(), relays.end(),
                                    [](const auto& w) { return w.expired(); }),
                     relays.end());
      relays.push_back(r);
      accept();
    });
  }
};

wire_guard::wire_guard(std::unique_ptr<impl> state) : impl_(std::move(state)) {
}

caf::expected<std::unique_ptr<wire_guard>>
wire_guard::start(const std::string& host, uint16_t port, uint16_t target_port,
                  wire_rules rules,
                  std::function<void(const std::string&)> warn,
                  const tls_settings* tls) {
  auto im = std::make_unique<impl>();
  if (tls) {
    im->server_tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    if (auto err = load_tls(*im->server_tls, tls->clients))
      return err;
    im->upstream_tls = std::make_unique<ssl::context>(ssl::context::tls_client);
    if (auto err = load_tls(*im->upstream_tls, tls->loopback))
      return err;
  }
  im->rules = std::make_shared<const wire_rules>(std::move(rules));
  im->warn = std::move(warn);
  im->target = tcp::endpoint{net::ip::make_address("127.0.0.1"), target_port};
  boost::system::error_code ec;
  tcp::resolver resolver{im->io};
  auto found = resolver.resolve(host, std::to_string(port), ec);
  if (ec || found.empty())
    return make_error(errc::invalid_argument,
                      "cannot resolve " + host + ": " + ec.message());
  auto endpoint = found.begin()->endpoint();
  im->acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    im->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    im->acceptor.bind(endpoint, ec);
  if (!ec)
    im->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(errc::node_unreachable,
                      "cannot listen on " + host + ":" + std::to_string(port)
                        + ": " + ec.message());
  im->accept();
  auto* raw = im.get();
  im->thread = std::thread{[raw] { raw->io.run(); }};
  return std::unique_ptr<wire_guard>{new wire_guard(std::move(im))};
}

wire_guard::~wire_guard() {
  auto* im = impl_.get();
  net::post(im->io, [im] {
    boost::system::error_code ignored;
    im->acceptor.close(ignored);
    for (auto& w : im->relays)
      if (auto r = w.lock())
        r->close();
  });
  // Closed sockets end their operations; then run() returns.
  im->io.stop();
  if (im->thread.joinable())
    im->thread.join();
}

uint16_t wire_guard::port() const {
  boost::system::error_code ec;
  auto ep = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

void wire_guard::wait_closed(std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (impl_->live->load() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

void wire_guard::stop_accepting() {
  auto* im = impl_.get();
  std::promise<void> done;
  net::post(im->io, [im, &done] {
    boost::system::error_code ignored;
    im->acceptor.close(ignored);
    done.set_value();
  });
  done.get_future().wait();
}

} // namespace orca

namespace orca {

namespace {

/// Writes `text` to a new file only its owner may read.
bool write_private(const std::string& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return false;
  std::size_t at = 0;
  while (at < text.size()) {
    auto n = ::write(fd, text.data() + at, text.size() - at);
    if (n <= 0) {
      ::close(fd);
      return false;
    }
    at += static_cast<std::size_t>(n);
  }
  return ::close(fd) == 0;
}

template <class T, void (*Free)(T*)>
using owned = std::unique_ptr<T, std::integral_constant<decltype(Free), Free>>;

/// A P-256 key and a self-signed certificate for it (CA:TRUE, so that it
/// may sign itself as trust anchor), as PEM.
caf::expected<std::pair<std::string, std::string>> make_self_signed() {
  auto fail = [](const char* what) {
    return make_error(errc::invalid_argument,
                      std::string{"cannot make the loopback TLS key: "} + what);
  };
  owned<EVP_PKEY, EVP_PKEY_free> key{EVP_EC_gen("P-256")};
  owned<X509, X509_free> cert{X509_new()};
  if (!key || !cert)
    return fail("out of memory");
  uint64_t serial = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial) != 1)
    return fail("no random bytes");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), serial >> 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60L * 60 * 24 * 365 * 10);
  X509_set_pubkey(cert.get(), key.get());
  auto* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(
    name, "CN", MBSTRING_ASC,
    reinterpret_cast<const unsigned char*>("orcad loopback"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  owned<X509_EXTENSION, X509_EXTENSION_free> ca{X509V3_EXT_conf_nid(
    nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE")};
  if (!ca || X509_add_ext(cert.get(), ca.get(), -1) != 1)
    return fail("cannot mark it as its own CA");
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    return fail("cannot sign it");
  auto pem = [](auto write) -> std::string {
    owned<BIO, BIO_free_all> bio{BIO_new(BIO_s_mem())};
    if (!bio || write(bio.get()) != 1)
      return {};
    char* data = nullptr;
    auto n = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(n));
  };
  auto key_pem = pem([&](BIO* b) {
    return PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr,
                                    nullptr);
  });
  auto cert_pem =
    pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
  if (key_pem.empty() || cert_pem.empty())
    return fail("cannot write it as PEM");
  return std::make_pair(std::move(cert_pem), std::move(key_pem));
}

} // namespace

loopback_credentials::loopback_credentials(std::string dir)
    : dir_(std::move(dir)) {
  files_.cert = dir_ + "/loopback.pem";
  files_.key = dir_ + "/loopback.key";
  files_.ca = files_.cert;
}

caf::expected<std::unique_ptr<loopback_credentials>>
loopback_credentials::make() {
  auto made = make_self_signed();
  if (!made)
    return made.error();
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
    std::string{tmp && *tmp ? tmp : "/tmp"} + "/orcad-tls-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data()))
    return make_error(errc::invalid_argument,
                      "cannot make a directory for the loopback TLS key in "
                        + pattern + ": " + std::strerror(errno));
  std::unique_ptr<loopback_credentials> creds{
    new loopback_credentials(buf.data())};
  if (!write_private(creds->files_.cert, made->first)
      || !write_private(creds->files_.key, made->second))
    return make_error(errc::invalid_argument,
                      "cannot write the loopback TLS key in " + creds->dir_
                        + ": " + std::strerror(errno));
  return creds;
}

loopback_credentials::~loopback_credentials() {
  ::unlink(files_.cert.c_str());
  ::unlink(files_.key.c_str());
  ::rmdir(dir_.c_str());
}

} // namespace orca
