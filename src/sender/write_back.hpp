/*
 * The outcomes waiting to be written back to PostgreSQL, in batches, and
 * what happens when a batch is refused.  Pure C++: the sender runs the
 * statements and reports back.
 *
 * A batch refused for its data (SQLSTATE class 22: a value the database
 * cannot take) would be refused again as it is, forever, holding up the
 * others in it: it is split in halves, written again at once, down to
 * single outcomes; a single one refused is written once more without its
 * error text, and dropped if even that is refused (its lease lapses and
 * the attempt counts).  Any other failure (connection lost, timeout,
 * deadlock) puts the batch back in front unchanged and holds all writes
 * for a delay that doubles from 20 ms to 5 s while the failures last.
 */

#ifndef WEBPUSH_SENDER_WRITE_BACK_HPP
#define WEBPUSH_SENDER_WRITE_BACK_HPP

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace webpush::sender {

/*
 * The outcome of one delivery: of a webpush_delivery row (id), or of a
 * subscription of a claimed range (batch and claim, notification and
 * subscription name it; id 0).
 */
struct PendingOutcome {
    std::uint64_t               id = 0;
    std::uint64_t               batch = 0;
    std::uint32_t               claim = 0;
    std::int64_t                notification = 0;
    std::int64_t                subscription = 0;
    const char                 *outcome = "failed";  /* static string */
    int                         status = 0;
    std::optional<std::string>  error;
    std::int64_t                delay_ms = 0;
    bool                        unreachable = false; /* NXDOMAIN, refused */

    /* for logs: "12" (a row) or "3/456" (notification/subscription) */
    std::string label() const;
};

struct WriteBatch {
    std::vector<PendingOutcome>  items;
    bool                         split = false;   /* a part of a refused one */
};

enum class Refusal {
    split,        /* halves queued to be written at once */
    stripped,     /* the single outcome queued again without its text */
    dropped,      /* even that was refused: given up */
    backoff,      /* not for its data: back in front, writes held */
};

class WriteBack {
public:
    static constexpr std::int64_t first_delay_ms = 20;
    static constexpr std::int64_t max_delay_ms = 5000;

    explicit WriteBack(std::size_t batch_max) : batch_max_(batch_max) {}

    void add(PendingOutcome o) { fresh_.push_back(std::move(o)); }

    /* outcomes not written yet (a batch being written not included) */
    std::size_t size() const;
    bool empty() const { return size() == 0; }

    /*
     * The next batch to write: parts of a refused batch first, then up to
     * batch_max fresh outcomes; none while writes are held (backoff).
     */
    std::optional<WriteBatch> take(std::int64_t now_ms);

    /* the batch was written */
    void written();

    /* the batch was refused; data: SQLSTATE class 22 */
    Refusal refused(WriteBatch batch, bool data, std::int64_t now_ms);

    /* the current hold after a failure, 0 when none */
    std::int64_t delay_ms() const { return delay_ms_; }

    static bool data_error(const std::string &sqlstate)
    {
        return sqlstate.size() == 5 && sqlstate.compare(0, 2, "22") == 0;
    }

private:
    std::size_t                          batch_max_;
    std::deque<PendingOutcome>           fresh_;
    std::deque<WriteBatch>               parts_;
    std::int64_t                         delay_ms_ = 0;
    std::int64_t                         not_before_ms_ = 0;
};

} // namespace webpush::sender

#endif
