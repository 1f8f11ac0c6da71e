//! The course's lower bounds on the time to get a file of F bits from one
//! server to N peers (Kurose & Ross, "File distribution time"):
//!
//! - client-server: D_cs ≥ max{N·F/u_s, F/d_min}: the server uploads
//!   every copy, and the slowest peer downloads one;
//! - P2P: D_P2P ≥ max{F/u_s, F/d_min, N·F/(u_s + Σu_i)}: the server
//!   uploads one copy, the slowest peer downloads one, and the N copies
//!   are uploaded by everyone together.
//!
//! Units are the caller's (bits and bits per second, or the course's
//! "F/u = 1 hour"): the functions only divide.

/// D_cs for `n` peers, file size `f`, server upload `u_s`, slowest peer
/// download `d_min`.
pub fn d_cs(n: u32, f: f64, u_s: f64, d_min: f64) -> f64 {
    (f64::from(n) * f / u_s).max(f / d_min)
}

/// D_P2P for `n` peers whose upload rates add up to `sum_u`.
pub fn d_p2p(n: u32, f: f64, u_s: f64, d_min: f64, sum_u: f64) -> f64 {
    (f / u_s)
        .max(f / d_min)
        .max(f64::from(n) * f / (u_s + sum_u))
}

/// The course's example, in hours: every peer uploads at u with F/u = 1
/// hour, u_s = 10u, and d_min = u_s (the slides' d_min ≥ u_s at its
/// smallest, which is where it could matter). Returns (D_cs, D_P2P).
pub fn course_example(n: u32) -> (f64, f64) {
    let (f, u) = (1.0, 1.0);
    let u_s = 10.0 * u;
    let d_min = u_s;
    (
        d_cs(n, f, u_s, d_min),
        d_p2p(n, f, u_s, d_min, f64::from(n) * u),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn the_course_example() {
        // One peer: the server's one copy takes F/u_s = 6 minutes either way.
        let (cs, p2p) = course_example(1);
        assert!(close(cs, 0.1) && close(p2p, 0.1));
        // Client-server grows linearly: N/10 hours, 3 hours at N = 30.
        assert!(close(course_example(30).0, 3.0));
        // P2P stays under an hour: N/(10 + N), 0.75 hours at N = 30.
        assert!(close(course_example(30).1, 0.75));
        assert!(course_example(1000).1 < 1.0);
        // The bound's factor at N = 30, which the swarm is measured against.
        let (cs, p2p) = course_example(30);
        assert!(close(cs / p2p, 4.0));
    }

    #[test]
    fn the_slowest_downloader_can_dominate() {
        assert!(close(d_cs(2, 100.0, 1000.0, 10.0), 10.0));
        assert!(close(d_p2p(2, 100.0, 1000.0, 10.0, 0.0), 10.0));
    }
}
