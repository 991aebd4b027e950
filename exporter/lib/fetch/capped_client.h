// cpp-httplib clients (HTTP and HTTPS) whose socket reads are charged to a byte budget, so
// that what a target sends is bounded in memory, not only in time: cpp-httplib 0.11 keeps
// every response header line it reads, however many, and grows a buffer for a line without
// end. The clients read through a stream of their own (the library's way to supply one is to
// override process_socket) that fails a read once the budget is spent; the request then
// fails at once. Everything else is cpp-httplib's. One request at a time per client, as
// with httplib's own clients; not thread-safe, except http().stop().
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "common/budgeted_stream.h"

namespace httplib {
class ClientImpl;
}

namespace gx {

class CappedClient {
 public:
  virtual ~CappedClient() = default;
  // The client, to configure and send with (an httplib::SSLClient for https).
  virtual httplib::ClientImpl& http() = 0;
  ReadBudget& budget() { return budget_; }
  // Whether its connection is open and the peer has neither closed it nor sent anything
  // unasked. A client whose connection is gone must not be reused: cpp-httplib would
  // reconnect on its own, to the address pinned when it was made, without a new lookup.
  bool ConnectionAlive();

 private:
  ReadBudget budget_;
};

// scheme: "http" or "https"; host without brackets; cert and key files for mTLS (https only,
// may be empty).
std::unique_ptr<CappedClient> MakeCappedClient(const std::string& scheme, const std::string& host,
                                               int port, const std::string& cert_file,
                                               const std::string& key_file);

}  // namespace gx
