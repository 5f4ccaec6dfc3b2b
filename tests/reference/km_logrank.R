# Reference values for Kaplan-Meier and log-rank conformance tests.
# Run from the repository root after export_datasets.R:
#   Rscript tests/reference/km_logrank.R
# Produced with R 4.2 and survival 3.5-3. jsonlite is not installed, so JSON is written
# by hand with 17 significant digits; NA/NaN -> null, +-Inf -> "Inf"/"-Inf".
suppressPackageStartupMessages(library(survival))
stopifnot(packageVersion("survival") >= "3.5")
data_dir <- "tests/reference/data"
fix_dir <- "tests/reference/fixtures"
dir.create(fix_dir, showWarnings = FALSE, recursive = TRUE)

json <- function(x) {
  if (is.null(x)) return("null")
  is_scalar <- inherits(x, "scalar")
  if (is.list(x)) {
    body <- vapply(x, json, "")
    if (!is.null(names(x))) {
      return(paste0("{", paste0('"', names(x), '": ', body, collapse = ", "), "}"))
    }
    return(paste0("[", paste(body, collapse = ", "), "]"))
  }
  if (is.character(x)) {
    val <- ifelse(is.na(x), "null", paste0('"', x, '"'))
  } else if (is.logical(x)) {
    val <- ifelse(is.na(x), "null", ifelse(x, "true", "false"))
  } else {
    x <- as.numeric(x)
    val <- ifelse(is.na(x), "null",
           ifelse(is.infinite(x), ifelse(x > 0, '"Inf"', '"-Inf"'), sprintf("%.17g", x)))
  }
  if (is_scalar) return(val)
  paste0("[", paste(val, collapse = ", "), "]")
}
scalar <- function(x) structure(x, class = c("scalar", class(x)))

conf_types <- c("log", "log-log", "plain", "logit", "arcsin")
probs <- c(0.25, 0.5, 0.75)

curve_fixture <- function(d, tau, grid) {
  fit0 <- survfit(Surv(time, status) ~ 1, data = d)
  out <- list(time = fit0$time, n_risk = fit0$n.risk, n_event = fit0$n.event,
              n_censor = fit0$n.censor, surv = fit0$surv, std_err = fit0$std.err,
              bands = list(), median = list(), quantile = list(), landmark = list())
  for (ct in conf_types) {
    fit <- survfit(Surv(time, status) ~ 1, data = d, conf.type = ct)
    tab <- summary(fit, rmean = tau)$table
    q <- quantile(fit, probs)
    out$bands[[ct]] <- list(lower = fit$lower, upper = fit$upper)
    out$median[[ct]] <- unname(tab[c("median", "0.95LCL", "0.95UCL")])
    out$quantile[[ct]] <- list(probs = probs, quantile = unname(q$quantile),
                               lower = unname(q$lower), upper = unname(q$upper))
    if (ct %in% c("log", "log-log")) {
      s <- summary(fit, times = grid, extend = TRUE)
      out$landmark[[ct]] <- list(time = s$time, n_risk = s$n.risk, n_event = s$n.event,
                                 n_censor = s$n.censor, surv = s$surv, std_err = s$std.err,
                                 lower = s$lower, upper = s$upper)
    }
    if (ct == "log") out$rmean <- list(tau = scalar(tau), rmean = scalar(unname(tab["rmean"])),
                                       se = scalar(unname(tab["se(rmean)"])))
  }
  out
}

km_fixture <- function(name, by) {
  d <- read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
  fits <- list()
  for (b in by) {
    dd <- if (is.na(b)) d else d[!is.na(d[[b]]), ]
    tau <- unname(round(quantile(dd$time, 0.75)))
    grid <- sort(unique(c(unname(round(quantile(dd$time, c(0.1, 0.25, 0.5, 0.9)))),
                          max(dd$time) + 1)))
    levels <- if (is.na(b)) "all" else sort(unique(as.character(dd[[b]])))
    curves <- list()
    for (lv in levels) {
      sub <- if (is.na(b)) dd else dd[as.character(dd[[b]]) == lv, ]
      curves[[lv]] <- curve_fixture(sub, tau, grid)
    }
    fits[[length(fits) + 1]] <- list(by = if (is.na(b)) NULL else scalar(b), n = scalar(nrow(dd)),
                                     tau = scalar(tau), grid = grid, curves = curves)
  }
  txt <- json(list(dataset = scalar(name), survival = scalar(as.character(packageVersion("survival"))),
                   fits = fits))
  writeLines(txt, file.path(fix_dir, paste0("km_", name, ".json")))
}

logrank_fixture <- function(name, tests) {
  d <- read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE)
  res <- list()
  for (tt in tests) {
    for (rho in c(0, 0.5, 1)) {
      f <- if (is.na(tt[2])) as.formula(paste("Surv(time, status) ~", tt[1]))
           else as.formula(paste("Surv(time, status) ~", tt[1], "+ strata(", tt[2], ")"))
      sd <- survdiff(f, data = d, rho = rho)
      obs <- if (is.matrix(sd$obs)) rowSums(sd$obs) else sd$obs
      ex <- if (is.matrix(sd$exp)) rowSums(sd$exp) else sd$exp
      df <- sum(ex > 0) - 1
      res[[length(res) + 1]] <- list(
        group = scalar(tt[1]), strata = if (is.na(tt[2])) NULL else scalar(tt[2]),
        rho = scalar(rho), groups = sub(".*=", "", names(sd$n)), n = as.vector(sd$n),
        observed = obs, expected = ex, variance = lapply(seq_len(nrow(sd$var)), function(i) sd$var[i, ]),
        chi2 = scalar(sd$chisq), df = scalar(df), p = scalar(sd$pvalue))
    }
  }
  txt <- json(list(dataset = scalar(name), survival = scalar(as.character(packageVersion("survival"))),
                   tests = res))
  writeLines(txt, file.path(fix_dir, paste0("logrank_", name, ".json")))
}

km_fixture("lung", c(NA, "sex", "ph_ecog"))
km_fixture("veteran", c(NA, "trt", "celltype"))
km_fixture("ovarian", c(NA, "rx"))
km_fixture("colon", c("rx"))
km_fixture("pbc", c(NA, "trt"))
km_fixture("aml", c("x"))
km_fixture("reference", c(NA, "group"))
km_fixture("ties_heavy", c("group"))
km_fixture("edge_groups", c("group"))
km_fixture("edge_curves", c("group"))
km_fixture("n13", c(NA, "group"))

logrank_fixture("lung", list(c("sex", NA), c("ph_ecog", NA), c("sex", "ph_ecog")))
logrank_fixture("veteran", list(c("trt", NA), c("celltype", NA), c("trt", "celltype")))
logrank_fixture("ovarian", list(c("rx", NA), c("rx", "resid_ds")))
logrank_fixture("colon", list(c("rx", NA), c("rx", "sex")))
logrank_fixture("pbc", list(c("trt", NA), c("trt", "sex")))
logrank_fixture("aml", list(c("x", NA)))
logrank_fixture("reference", list(c("group", NA), c("group", "strat")))
logrank_fixture("ties_heavy", list(c("group", NA), c("group", "strat")))
logrank_fixture("edge_groups", list(c("group", NA), c("group", "strat")))
logrank_fixture("edge_curves", list(c("group", NA)))
logrank_fixture("n13", list(c("group", NA)))
cat("fixtures written to", fix_dir, "\n")
