# Reference values for rechallenge.stats.competing from R cmprsk 2.2 (cuminc, timepoints,
# Gray's test).
#
# Run from the repository root:   Rscript tests/reference/cmprsk.R
# Writes tests/reference/fixtures/cmprsk_cuminc.json: per case the rows (time, status,
# group, strata), cmprsk's step-function vectors per (group, cause), timepoints() at the
# case's times and the Tests table (rho = 0 and, where set, another rho).

suppressPackageStartupMessages({ library(cmprsk); library(survival) })
stopifnot(packageVersion("cmprsk") >= "2.2")
source("tests/reference/json_writer.R")

run_case <- function(name, d, times, rho = 0, strata = FALSE) {
  fit <- if (strata) cuminc(d$time, d$status, d$group, d$strata, rho = rho)
         else if (is.null(d$group)) cuminc(d$time, d$status, rho = rho)
         else cuminc(d$time, d$status, d$group, rho = rho)
  curves <- fit[names(fit) != "Tests"]
  tp <- timepoints(curves, times)
  out <- lapply(names(curves), function(nm) {
    cv <- curves[[nm]]
    list(name = scalar(nm), time = cv$time, est = cv$est, var = cv$var,
         at_est = unname(tp$est[nm, ]), at_var = unname(tp$var[nm, ]))
  })
  tests <- if (is.null(fit$Tests)) NULL else list(
    cause = rownames(fit$Tests), stat = unname(fit$Tests[, "stat"]),
    p = unname(fit$Tests[, "pv"]), df = unname(fit$Tests[, "df"]))
  list(name = scalar(name), rho = scalar(rho), strata = scalar(strata),
       time = d$time, status = d$status,
       group = if (is.null(d$group)) NULL else as.character(d$group),
       strata_col = if (is.null(d$strata)) NULL else as.character(d$strata),
       times = times, curves = out, tests = tests)
}

cases <- list()
# tiny, worked by hand in the test (exact fractions)
tiny <- data.frame(time = c(1, 2, 2, 3, 4, 5, 5, 6), status = c(1, 2, 1, 0, 1, 2, 0, 1),
                   group = c("a", "a", "a", "a", "b", "b", "b", "b"))
cases[[length(cases) + 1]] <- run_case("tiny", tiny, c(0.5, 2, 4, 6, 7))
cases[[length(cases) + 1]] <- run_case("tiny_onegroup", tiny[, c("time", "status")], c(2, 5))

set.seed(2024)
n <- 300
gen <- data.frame(time = round(rexp(n, 0.1), 0) + 1, status = sample(0:3, n, TRUE, c(.3, .3, .25, .15)),
                  group = sample(c("x", "y", "z"), n, TRUE), strata = sample(c("s1", "s2"), n, TRUE))
cases[[length(cases) + 1]] <- run_case("gen3", gen, c(1, 5, 10, 20, 40))
cases[[length(cases) + 1]] <- run_case("gen3_rho", gen, c(5, 10), rho = 1)
cases[[length(cases) + 1]] <- run_case("gen3_strata", gen, c(5, 10), strata = TRUE)

# continuous times (no ties), two groups
m <- 200
cont <- data.frame(time = signif(rweibull(m, 1.3, 8), 8), status = sample(0:2, m, TRUE),
                   group = sample(1:2, m, TRUE))
cases[[length(cases) + 1]] <- run_case("cont2", cont, c(2.5, 5, 10))

# mgus2: progression (1) with death before progression (2) as competing event, by sex
mg <- survival::mgus2
etime <- with(mg, ifelse(pstat == 0, futime, ptime))
event <- with(mg, ifelse(pstat == 0, 2 * death, 1))
mgd <- data.frame(time = etime, status = event, group = as.character(mg$sex))
cases[[length(cases) + 1]] <- run_case("mgus2", mgd, c(60, 120, 240))

# frequency weights: the tiny rows with weights w are the tiny rows replicated w times
w <- c(2, 1, 3, 1, 1, 2, 1, 2)
rep_rows <- tiny[rep(seq_len(nrow(tiny)), w), ]
rw <- run_case("tiny_weighted", rep_rows, c(0.5, 2, 4, 6, 7))
rw$weights_of_tiny <- w
cases[[length(cases) + 1]] <- rw

writeLines(to_json(list(cmprsk = scalar(as.character(packageVersion("cmprsk"))), cases = cases)),
           "tests/reference/fixtures/cmprsk_cuminc.json")
