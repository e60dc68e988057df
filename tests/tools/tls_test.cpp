// TLS with client certificates: orcad and orcactl with certificates from
// one CA talk; a client with no certificate, or with one from another CA,
// is refused. The certificates are made at test time with openssl.

#include <catch2/catch.hpp>

#include "support/node_process.hpp"

using namespace orca::test;

namespace {

/// Makes a CA, a node certificate and a client certificate signed by it,
/// and a foreign CA with a client certificate of its own.
void make_certificates(const temp_dir& dir) {
  std::string script = "cd '" + dir.path() + R"(' && (
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=orca-test-ca &&
    openssl req -newkey rsa:2048 -nodes -keyout node.key -out node.csr -subj /CN=orcad &&
    openssl x509 -req -in node.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out node.pem -days 1 &&
    openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=orcactl &&
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 1 &&
    openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 1 -subj /CN=other-ca &&
    openssl req -newkey rsa:2048 -nodes -keyout other.key -out other.csr -subj /CN=intruder &&
    openssl x509 -req -in other.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -out other.pem -days 1
  ) >/dev/null 2>&1)";
  REQUIRE(std::system(script.c_str()) == 0);
}

} // namespace

TEST_CASE("with TLS only clients with a certificate from the node's CA get in") {
  temp_dir certs;
  make_certificates(certs);
  node_process node{"", {"--tls-cert", certs.file("node.pem"), "--tls-key",
                         certs.file("node.key"), "--tls-ca", certs.file("ca.pem")}};
  auto with = [&](const std::string& cert, const std::string& key,
                  const std::string& ca) {
    return node.ctl({"flow", "list"}, "",
                    {"--tls-cert", certs.file(cert), "--tls-key", certs.file(key),
                     "--tls-ca", certs.file(ca)});
  };
  auto good = with("client.pem", "client.key", "ca.pem");
  CHECK(good.exit_code == 0);
  CHECK(good.out.rfind("NAME", 0) == 0);

  auto none = node.ctl({"flow", "list"});
  CHECK(none.exit_code == 1);
  CHECK(none.err.rfind("error: cannot reach node " + node.address(), 0) == 0);

  auto foreign = with("other.pem", "other.key", "other-ca.pem");
  CHECK(foreign.exit_code == 1);
  CHECK(foreign.err.rfind("error: cannot reach node", 0) == 0);

  auto foreign_cert = with("other.pem", "other.key", "ca.pem");
  CHECK(foreign_cert.exit_code == 1);

  auto half = node.ctl({"flow", "list"}, "", {"--tls-cert", certs.file("client.pem")});
  CHECK(half.exit_code == 2);
  CHECK(half.err == "error: TLS needs all of --tls-cert, --tls-key and --tls-ca\n");
  CHECK(node.stop() == 0);
}
