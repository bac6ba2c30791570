// What gm-control needs of the data plane: requests with acks, policy hand-over, events.
// ring_dp_port is the real one (a DPDK secondary on gm-dataplane's rings). Without a
// data plane (`dataplane:` absent from the config, e.g. a control-plane-only lab or test)
// the GM runs the protocol and shows "data plane: not attached"; nothing pretends to
// install anything.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/ctrl_client.h"

namespace gm::control::gmd {

class dp_port {
 public:
  virtual ~dp_port() = default;
  virtual ctrl::ack_result request(ctrl::msg& m) = 0;
  virtual ctrl::ack_result replace_policy(const std::vector<ctrl::ace_rec>& aces) = 0;
  virtual bool poll_event(ctrl::msg& m) = 0;
};

class ring_dp_port final : public dp_port {
 public:
  explicit ring_dp_port(ctrl::client c) : _c(std::move(c)) {}
  ctrl::ack_result request(ctrl::msg& m) override { return _c.request(m); }
  ctrl::ack_result replace_policy(const std::vector<ctrl::ace_rec>& aces) override {
    return _c.replace_policy(aces);
  }
  bool poll_event(ctrl::msg& m) override { return _c.poll_event(m); }

 private:
  ctrl::client _c;
};

}  // namespace gm::control::gmd
