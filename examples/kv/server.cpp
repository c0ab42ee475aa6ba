// courier-kv's I/O (server.hpp): a connection's reads, parsing and
// writes, and the gatherer that sends each shard one batch per round.
#include "server.hpp"

#include <cstdio>

namespace kv {

// -- connection ----------------------------------------------------------------------

connection::connection(tcp::socket s, server& srv, std::size_t io) : socket_(std::move(s)), srv_(srv), io_(io) {}

void connection::start() { read(); }

void connection::drain() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->closed_) return;
    self->reading_stopped_ = true;
    asio::error_code ignored;
    self->socket_.shutdown(tcp::socket::shutdown_receive, ignored);  // the pending read ends
    self->flush();
  });
}

void connection::read() {
  if (reading_stopped_ || closed_ || read_in_flight_ || slots_.size() >= max_owed) return;  // flush() resumes
  read_in_flight_ = true;
  socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
    self->read_in_flight_ = false;
    if (ec) {  // EOF, reset, or our own shutdown: answer what was read, then close
      self->reading_stopped_ = true;
      self->flush();
      return;
    }
    self->on_read(n);
  });
}

void connection::on_read(std::size_t n) {
  if (in_pos_ > 0 && in_pos_ == in_.size()) {
    in_.clear();
    in_pos_ = 0;
  } else if (in_pos_ > 64 * 1024) {
    in_.erase(0, in_pos_);
    in_pos_ = 0;
  }
  in_.append(chunk_.data(), n);
  std::uint64_t parsed = 0;
  while (!reading_stopped_ && in_.size() - in_pos_ >= need_) {
    std::string error;
    auto r = parse_command(in_, in_pos_, srv_.config().proto, args_, error);
    if (r.status == parse_status::need_more) {
      need_ = r.need;
      break;
    }
    need_ = 0;
    if (r.status == parse_status::error) {  // unrecoverable: answer it, then close this connection only
      std::string reply;
      put_error(reply, "ERR " + error);
      add_local(std::move(reply), true);
      break;
    }
    if (args_.empty()) continue;  // an empty line or *0
    ++parsed;
    handle(args_);
  }
  srv_.counted(parsed);
  flush();
  read();
}

pending& connection::add_pending(pending::combine how, std::uint32_t parts) {
  slots_.emplace_back();
  auto& p = slots_.back();
  p.how = how;
  p.parts_left = parts;
  p.part_count = parts;
  if (parts > 1) p.more.resize(parts - 1);
  return p;
}

void connection::add_local(std::string reply, bool close_after) {
  auto& p = add_pending(pending::local, 0);
  p.encoded = std::move(reply);
  p.close_after = close_after;
  if (close_after) reading_stopped_ = true;
}

void connection::add_op(std::size_t shard, op o, std::uint32_t part) {
  srv_.gather(io_).add(shard, std::move(o), *this, first_id_ + slots_.size() - 1, part);
}

// -- gatherer ------------------------------------------------------------------------

void gatherer::add(std::size_t shard, op o, connection& c, std::uint64_t slot, std::uint32_t part) {
  auto& r = *round_;
  if (c.round_id_ != round_id_) {  // the connection's first operation in this round
    c.round_id_ = round_id_;
    c.round_index_ = static_cast<std::uint32_t>(r.conns.size());
    r.conns.push_back(c.shared_from_this());
  }
  ops_[shard].push_back(std::move(o));
  r.targets[shard].push_back({c.round_index_, part, slot});
}

void gatherer::send(server& srv, asio::io_context& io) {
  auto r = std::move(round_);
  round_ = std::make_shared<round>(ops_.size());
  ++round_id_;
  for (std::size_t s = 0; s < ops_.size(); ++s) {
    if (ops_[s].empty()) continue;
    batch b{std::move(ops_[s])};
    ops_[s] = {};
    ops_[s].reserve(b.ops.size());  // the next round is likely as deep as this one
    round_->targets[s].reserve(b.ops.size());
    ++outstanding_;
    // The results come back on this I/O thread (the context's executor).
    courier::asio::ask(srv.shard_at(s), std::move(b),
                       asio::bind_executor(io.get_executor(), [this, r, s](courier::result<std::vector<value>> res) {
                         --outstanding_;
                         auto& targets = r->targets[s];
                         connection* last = nullptr;
                         for (std::size_t i = 0; i < targets.size(); ++i) {
                           auto [ci, part, slot] = targets[i];
                           auto* c = r->conns[ci].get();
                           // One connection's operations are next to each other: flush it once they are in.
                           if (last && last != c) last->flush();
                           last = c;
                           if (c->closed_) continue;  // the client went: dropped
                           // (a slot after a QUIT was never answered: gone)
                           if (slot < c->first_id_ || slot - c->first_id_ >= c->slots_.size()) continue;
                           auto& p = c->slots_[slot - c->first_id_];
                           p.part(part) = res ? std::move((*res)[i])
                                              : value{value::error, 0, "ERR " + res.error().message()};
                           --p.parts_left;
                         }
                         if (last) last->flush();
                       }));
  }
}

void connection::flush() {
  if (closed_) return;
  bool close_now = false;
  while (!slots_.empty() && slots_.front().parts_left == 0) {
    auto& p = slots_.front();
    encode(p, out_);
    close_now = close_now || p.close_after;
    slots_.pop_front();
    ++first_id_;
    if (close_now) {
      slots_.clear();  // nothing after a QUIT or a protocol error is answered
      break;
    }
  }
  if (out_.size() + writing_.size() > srv_.config().output_limit) {  // a client that does not read
    std::fprintf(stderr, "courier-kv: closing a client whose pending output passed %zu bytes\n",
                 srv_.config().output_limit);
    return close();
  }
  if (close_now) reading_stopped_ = true;
  write();
  if (slots_.size() < max_owed / 2) read();  // resumes a paused reader (no-op otherwise)
}

void connection::write() {
  if (write_in_flight_ || closed_) return;
  if (out_.empty()) {
    // Nothing to write: a connection that stopped reading closes once
    // every reply is out.
    if (reading_stopped_ && slots_.empty()) close();
    return;
  }
  writing_.swap(out_);
  out_.clear();
  write_in_flight_ = true;
  asio::async_write(socket_, asio::buffer(writing_), [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
    self->write_in_flight_ = false;
    self->writing_.clear();
    if (ec) return self->close();
    self->write();
  });
}

void connection::close() {
  if (closed_) return;
  closed_ = true;
  asio::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  srv_.left(shared_from_this());  // replies still in flight find closed_ and are dropped
}

}  // namespace kv
