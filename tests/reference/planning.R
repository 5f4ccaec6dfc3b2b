# Reference values for rechallenge.planning (trial planning), from base R only: Debian has no
# clinfun, gsDesign or powerSurvEpi package. Each quantity is computed here the direct way,
# not by the closed forms the Python code uses:
#   - events: Schoenfeld (1983) and Freedman (1982) from qnorm;
#   - event probability under uniform accrual, follow-up and exponential dropout: a double
#     numerical integral over entry time and event time (integrate), and the Lachin-Foulkes
#     (1986) sample size from those integrals;
#   - Simon two-stage operating characteristics of published designs: explicit sums of
#     dbinom * pbinom over the stage-one count;
#   - A'Hern single-stage designs: brute force over n and the cut-off with pbinom;
#   - one-sample log-rank (Wu 2015): p0, p00 by integrate.
#
# Run from the repository root:   Rscript tests/reference/planning.R
# Writes tests/reference/fixtures/plan_reference.json.

out_fix <- "tests/reference/fixtures"
dir.create(out_fix, showWarnings = FALSE, recursive = TRUE)
source("tests/reference/json_writer.R")

# ---- events ------------------------------------------------------------------------------
events <- list()
grid <- expand.grid(
  hr = c(0.5, 0.6, 0.7, 0.75, 1.5), alpha = c(0.05, 0.025), power = c(0.8, 0.9),
  k = c(1, 2), sides = c(1, 2)
)
for (i in seq_len(nrow(grid))) {
  g <- grid[i, ]
  z <- qnorm(1 - g$alpha / g$sides) + qnorm(g$power)
  share <- g$k / (1 + g$k)
  events[[i]] <- list(
    hr = scalar(g$hr), alpha = scalar(g$alpha), power = scalar(g$power),
    allocation = scalar(g$k), sides = scalar(g$sides),
    schoenfeld = scalar(z^2 / (share * (1 - share) * log(g$hr)^2)),
    freedman = scalar(z^2 * (1 + g$k * g$hr)^2 / (g$k * (1 - g$hr)^2))
  )
}

# ---- event probability and Lachin-Foulkes -------------------------------------------------
# P(event observed) = (1/A) int_0^A int_0^(A+F-e) h exp(-(h+d) u) du de
p_event <- function(h, A, F, d) {
  inner <- function(e) {
    vapply(e, function(ei) {
      integrate(function(u) h * exp(-(h + d) * u), 0, A + F - ei, rel.tol = 1e-12)$value
    }, 0)
  }
  integrate(inner, 0, A, rel.tol = 1e-12)$value / A
}
lf <- list()
cases <- list(
  list(hc = log(2) / 6, hr = 0.6, A = 12, F = 6, d = 0, alpha = 0.025, power = 0.9, k = 1, sides = 1),
  list(hc = log(2) / 4, hr = 0.7, A = 24, F = 12, d = -log(0.9) / 12, alpha = 0.05, power = 0.8, k = 1, sides = 2),
  list(hc = log(2) / 9, hr = 0.65, A = 18, F = 12, d = 0.01, alpha = 0.05, power = 0.9, k = 2, sides = 2),
  list(hc = 0.3, hr = 0.5, A = 2, F = 1, d = 0.05, alpha = 0.05, power = 0.8, k = 1, sides = 1)
)
for (i in seq_along(cases)) {
  cc <- cases[[i]]
  he <- cc$hc * cc$hr
  qe <- cc$k / (1 + cc$k); qc <- 1 - qe
  hbar <- qe * he + qc * cc$hc
  phi <- function(h) h^2 / p_event(h, cc$A, cc$F, cc$d)
  za <- qnorm(1 - cc$alpha / cc$sides); zb <- qnorm(cc$power)
  root <- za * sqrt(phi(hbar) * (1 / qe + 1 / qc)) + zb * sqrt(phi(he) / qe + phi(cc$hc) / qc)
  lf[[i]] <- c(
    lapply(cc, scalar),
    list(
      p_event_control = scalar(p_event(cc$hc, cc$A, cc$F, cc$d)),
      p_event_experimental = scalar(p_event(he, cc$A, cc$F, cc$d)),
      n_exact = scalar((root / abs(he - cc$hc))^2)
    )
  )
}

# ---- Simon two-stage: published designs (Simon 1989, Tables 1 and 2) ----------------------
oc <- function(r1, n1, r, n, p) {
  x1 <- (r1 + 1):n1
  reject <- sum(dbinom(x1, n1, p) * pbinom(r - x1, n - n1, p, lower.tail = FALSE))
  pet <- pbinom(r1, n1, p)
  c(reject = reject, pet = pet, en = n1 + (1 - pet) * (n - n1))
}
simon <- list()
published <- list(
  # p0, p1, alpha, power, optimal (r1, n1, r, n), minimax (r1, n1, r, n)
  list(0.05, 0.25, 0.05, 0.8, c(0, 9, 2, 17), c(0, 12, 2, 16)),
  list(0.10, 0.30, 0.05, 0.8, c(1, 10, 5, 29), c(1, 15, 5, 25)),
  list(0.20, 0.40, 0.05, 0.8, c(3, 13, 12, 43), c(4, 18, 10, 33)),
  list(0.30, 0.50, 0.05, 0.8, c(5, 15, 18, 46), c(6, 19, 16, 39)),
  list(0.05, 0.25, 0.05, 0.9, c(0, 9, 3, 30), c(0, 15, 3, 25)),
  list(0.20, 0.40, 0.05, 0.9, c(4, 19, 15, 54), c(5, 24, 13, 45)),
  list(0.10, 0.30, 0.10, 0.9, c(1, 12, 5, 35), c(1, 16, 4, 25))
)
for (i in seq_along(published)) {
  d <- published[[i]]
  one <- function(v) {
    a <- oc(v[1], v[2], v[3], v[4], d[[1]]); b <- oc(v[1], v[2], v[3], v[4], d[[2]])
    list(r1 = scalar(v[1]), n1 = scalar(v[2]), r = scalar(v[3]), n = scalar(v[4]),
         en0 = scalar(a[["en"]]), pet0 = scalar(a[["pet"]]),
         alpha_actual = scalar(a[["reject"]]), power_actual = scalar(b[["reject"]]))
  }
  simon[[i]] <- list(p0 = scalar(d[[1]]), p1 = scalar(d[[2]]), alpha = scalar(d[[3]]),
                     power = scalar(d[[4]]), optimal = one(d[[5]]), minimax = one(d[[6]]))
}

# ---- A'Hern single stage: brute force -----------------------------------------------------
ahern <- list()
ah_cases <- list(c(0.05, 0.25, 0.05, 0.8), c(0.05, 0.20, 0.05, 0.8), c(0.10, 0.30, 0.05, 0.9),
                 c(0.20, 0.40, 0.05, 0.8), c(0.30, 0.50, 0.10, 0.9))
for (i in seq_along(ah_cases)) {
  v <- ah_cases[[i]]
  found <- NULL
  for (n in 1:500) {
    for (r in 0:(n - 1)) {
      a <- pbinom(r, n, v[1], lower.tail = FALSE); b <- pbinom(r, n, v[2], lower.tail = FALSE)
      if (a <= v[3] && b >= v[4]) { found <- c(n, r, a, b); break }
    }
    if (!is.null(found)) break
  }
  ahern[[i]] <- list(p0 = scalar(v[1]), p1 = scalar(v[2]), alpha = scalar(v[3]),
                     power = scalar(v[4]), n = scalar(found[1]), r = scalar(found[2]),
                     alpha_actual = scalar(found[3]), power_actual = scalar(found[4]))
}

# ---- one-sample log-rank (Wu 2015) --------------------------------------------------------
wu <- list()
wu_cases <- list(c(9, 1 / 1.75, 1.22, 5, 3, 0.05, 0.8), c(6, 0.6, 1, 24, 12, 0.05, 0.8),
                 c(4, 0.7, 1.5, 18, 6, 0.025, 0.9), c(12, 0.5, 0.8, 12, 12, 0.1, 0.8))
for (i in seq_along(wu_cases)) {
  v <- wu_cases[[i]]
  m0 <- v[1]; delta <- v[2]; k <- v[3]; ta <- v[4]; tf <- v[5]
  H0 <- function(t) log(2) * (t / m0)^k
  h0 <- function(t) k * log(2) * t^(k - 1) / m0^k
  G <- function(t) ifelse(t <= tf, 1, (ta + tf - t) / ta)
  p0 <- integrate(function(t) G(t) * exp(-delta * H0(t)) * h0(t), 0, ta + tf, rel.tol = 1e-12)$value
  p00 <- integrate(function(t) G(t) * exp(-delta * H0(t)) * H0(t) * h0(t), 0, ta + tf,
                   rel.tol = 1e-12)$value
  p1 <- delta * p0; p01 <- delta * p00
  w <- p1 - p0
  s <- sqrt(p1 - p1^2 + 2 * p00 - p0^2 - 2 * p01 + 2 * p0 * p1)
  n_exact <- (sqrt(p0) * qnorm(1 - v[6]) + s * qnorm(v[7]))^2 / w^2
  n <- ceiling(n_exact)
  wu[[i]] <- list(median = scalar(m0), hr = scalar(delta), shape = scalar(k), accrual = scalar(ta),
                  follow_up = scalar(tf), alpha = scalar(v[6]), power = scalar(v[7]),
                  n_exact = scalar(n_exact), n = scalar(n), p_event = scalar(p1),
                  power_at_n = scalar(pnorm((-sqrt(p0) * qnorm(1 - v[6]) - sqrt(n) * w) / s)))
}

writeLines(
  to_json(list(
    r_version = scalar(R.version.string), events = events, lachin_foulkes = lf,
    simon = simon, ahern = ahern, one_sample_logrank = wu
  )),
  file.path(out_fix, "plan_reference.json")
)
