// What a Redis reply says about the node that sent it: still a primary that takes the queue's
// commands, or a node that lost that role (a failover demoted it, it is still loading its data,
// its cluster is down). The one place that decides "reconnect and find the primary again";
// RedisClient asks it about every reply and every handshake. Pure.
//
// A lost primary shows as one of these errors, bare or (Redis 6 and older) inside a script's
// error ("ERR Error running script ...: -READONLY You can't write ..."):
//   READONLY     a replica: a failover demoted this node, or the address names a replica
//   MASTERDOWN   a replica that lost its primary (replica-serve-stale-data no)
//   LOADING      the node is loading its dataset after a restart or a full resynchronisation
//   CLUSTERDOWN  the cluster cannot serve this slot now
//   TRYAGAIN     the slot is being moved between nodes
// A primary that stops answering is the other sign; RedisClient's reply timeout sees that.
#pragma once

#include <optional>
#include <string>

#include "supervisor/queue/redis_reply.h"

namespace ffpod {

// The error code (one of the above) when `reply` says its node is not a usable primary now;
// nullopt for any other reply, error or not.
std::optional<std::string> PrimaryLostCode(const RedisReply& reply);

// Judges the answer to ROLE sent by the connection handshake to `address` (host:port). nullopt
// when the node is a primary, or when ROLE was refused (renamed away, an ACL without it): the
// replies to the queue's writes then tell. Otherwise why the node is not used, naming the error
// its writes would get: "READONLY: Redis at 10.0.0.5:6379 is a replica of 10.0.0.4:6379, not a
// primary".
std::optional<std::string> RoleRefusal(const RedisReply& role, const std::string& address);

}  // namespace ffpod
