#include "classify/category.h"

namespace gx {
namespace {

struct CategoryInfo {
  std::string_view name;
  bool benign;
  std::string_view hint;
};

// Hints follow the runbook's mapping from the dominant growing stack to a first fix.
constexpr CategoryInfo kCategories[kCategoryCount] = {
    {"chan_send", false,
     "Blocked channel send (backpressure or coordination bug): add a ctx.Done() case to the "
     "send, bound the queue and pick a policy (drop, shed, or block with a deadline)."},
    {"chan_receive", false,
     "Blocked channel receive: the sender is gone or never closes it. Let the owner close it "
     "when done, or select on it with ctx.Done(); a bare <-ctx.Done() means that context is "
     "never cancelled. A for range over a Ticker's C never ends: Stop does not close it."},
    {"nil_chan", false,
     "Send or receive on a nil channel blocks forever: the channel was never made or was set "
     "to nil; initialise it or guard the path."},
    {"select", false,
     "Select with no case that can fire (a ticker loop waits here between ticks). With a "
     "ctx.Done() case, that context is never cancelled: trace it to context.Background() or "
     "a cancel func never called. Else add one and make shutdown reach it."},
    {"select_no_cases", false,
     "select {} blocks forever by design: make sure this goroutine is meant to live as long "
     "as the process, and is started once."},
    {"http_client", false,
     "Outbound HTTP. Stuck in a round trip: set http.Client.Timeout, use "
     "NewRequestWithContext, close every body. A persistConn read/write loop pair per pooled "
     "idle connection is normal; pairs that keep growing mean a Transport per request or "
     "unclosed bodies."},
    {"network_io", false,
     "Network I/O without a deadline: set read/write deadlines or close the connection when "
     "the request context is done."},
    {"wait_group", false,
     "Join that never completes: one owner always calls Wait, every Add has a Done on every "
     "path; use errgroup.WithContext so one failure cancels the rest."},
    {"semaphore", false,
     "Queued for a slot (semaphore, errgroup SetLimit, database/sql pool): the slots are held "
     "by goroutines that do not finish, so look at the holders' stacks. Release on every path "
     "(close Rows and Tx); let waiting stop: a context for Acquire, errgroup TryGo."},
    {"mutex", false,
     "Waiting for a lock: look for an Unlock missing on an error path, I/O held under the "
     "lock, or lock-order inversions."},
    {"cond", false,
     "sync.Cond.Wait with no Signal/Broadcast coming: signal on every state change and on "
     "shutdown, or use a channel with ctx.Done()."},
    {"timer", false,
     "Sleep, timer or ticker loop without an exit: give each loop a ctx.Done() case beside "
     "its timer or ticker and return on it; defer Stop. Stop does not close the channel, so a "
     "for range over a ticker never ends."},
    {"syscall", false,
     "Blocked in a system call or cgo: put a timeout on the file or socket underneath, or "
     "bound the number of concurrent calls."},
    {"subprocess", false,
     "Waiting on a child process (os/exec): the child, or a grandchild holding its stdout or "
     "stderr pipe, has not exited. Call Wait on every started Cmd, use exec.CommandContext "
     "with Cmd.WaitDelay, and bound how long the child may run."},
    {"coroutine", false,
     "An iter.Pull sequence waiting to be resumed: its caller never called stop. Call "
     "defer stop() right after iter.Pull. A caller blocked in next waits for the sequence, "
     "whose own goroutine shows where it blocks."},
    {"running", false,
     "Running or runnable: busy, not blocked. If this grows, look at the CPU profile."},
    {"idle_server", true,
     "Idle server connection or accept loop: normal for a server; it follows open client "
     "connections (set IdleTimeout and ReadHeaderTimeout). A growing connReader.backgroundRead "
     "follows requests in flight: look for handlers that do not return."},
    {"runtime", true,
     "Go runtime or signal-handling goroutine, or one created but not started yet: not a "
     "leak."},
    {"ignored", true, "Matched an ignore rule of the configuration."},
    {"unknown", false,
     "Not classified: the format hides the blocking primitive (debug=1) or no rule matched; "
     "fetch debug=0 or add a rule."},
};

// Rules of builtin_rules.yaml (by name) whose stacks get their own hint.
struct RuleHint {
  std::string_view rule;
  std::string_view hint;
};
constexpr RuleHint kRuleHints[] = {
    {"singleflight-wait",
     "Followers of a singleflight call, waiting for its leader (the first caller of the same "
     "key): the leader is the one stuck, so find its stack (the same function, below it) and "
     "give its call a deadline; let followers stop waiting with DoChan and ctx.Done()."},
    {"sync-once-wait",
     "Waiting for a sync.Once (or OnceFunc/OnceValue) whose first caller has not returned: "
     "that caller's function is the one stuck (its goroutine is inside Once.Do, not in Lock); "
     "give it a deadline, and do not do I/O inside a Once without one."},
    {"grpc-client",
     "Outbound gRPC: a call or stream waiting for its answer, or a ClientConn's reader and "
     "keepalive (one set per connection). Give every call a context with a deadline, cancel "
     "or drain every stream; growing connection goroutines mean ClientConns never closed."},
    {"sql-db-background",
     "A database/sql DB's own goroutine (its connection opener, and a cleaner once conns "
     "expire): one per DB is normal. Growth means DBs opened and never closed: open one per "
     "database at start-up and share it; Close what you open."},
    {"grpc-clientconn-background",
     "A gRPC ClientConn's own goroutines (resolver, balancer and state callbacks, a few per "
     "conn): growth means ClientConns made and never closed. Make one per target and share "
     "it; Close every one you make."},
    {"signal-notify-context",
     "signal.NotifyContext's goroutine, alive until its stop func is called or its parent "
     "is done: growth means NotifyContext called again and again without stop. Call it once "
     "(in main) and defer stop()."},
};

}  // namespace

std::string_view StackHint(Category c, std::string_view rule) {
  for (const RuleHint& r : kRuleHints) {
    // A diff names a rule that decided on the older capture "<rule> (from the older capture)".
    if (rule.substr(0, rule.find(" (")) == r.rule) return r.hint;
  }
  return CategoryHint(c);
}

std::string_view CategoryName(Category c) { return kCategories[static_cast<int>(c)].name; }
std::string_view CategoryHint(Category c) { return kCategories[static_cast<int>(c)].hint; }
bool IsBenign(Category c) { return kCategories[static_cast<int>(c)].benign; }

std::optional<Category> ParseCategory(std::string_view name) {
  for (int i = 0; i < kCategoryCount; ++i) {
    if (kCategories[i].name == name) return static_cast<Category>(i);
  }
  return std::nullopt;
}

}  // namespace gx
