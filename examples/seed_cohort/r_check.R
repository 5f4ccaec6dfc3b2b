# R judge for the seed cohort's survival numbers (design aid; not run by the tests).
#
#   Rscript examples/seed_cohort/r_check.R
#
# Reads the CSVs next to this script, takes the 13 patients designed to be included
# (QZ-0001 ... QZ-0013), derives PFS1 / PFSR / OS in whole days from treatments.csv (the
# investigator progression dates, which the Python tests show agree with lesions.csv) and
# patients.csv, and prints survfit, survdiff and coxph (Efron) results plus the SPSS-style
# symmetric median CI (median +/- 1.96 SE; SE = sqrt(Greenwood var S(median)) / f,
# f = (S(u) - S(l)) / (l - u), u = last event time with S >= 0.55, l = first with S <= 0.45).
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = FALSE)
file_arg <- sub("^--file=", "", args[grep("^--file=", args)])
here <- if (length(file_arg)) dirname(normalizePath(file_arg)) else "."
month <- 30.4375
pts <- read.csv(file.path(here, "patients.csv"), colClasses = "character")
trt <- read.csv(file.path(here, "treatments.csv"), colClasses = "character")
ici <- c("pembrolizumab", "sintilimab", "camrelizumab", "tislelizumab", "toripalimab")
is_ici <- function(agents) {
  vapply(strsplit(agents, ";"), function(a) any(a %in% ici), logical(1))
}
included <- sprintf("QZ-%04d", 1:13)
rows <- lapply(included, function(pid) {
  p <- pts[pts$patient_id == pid, ]
  t <- trt[trt$patient_id == pid, ]
  t <- t[order(as.integer(t$line)), ]
  courses <- t[is_ici(t$agents), ]
  ini <- courses[1, ]
  rch <- courses[2, ]
  d <- function(x) as.Date(ifelse(x == "", NA, x))
  r0 <- d(rch$start_date)
  prog <- d(rch$progression_date)
  death <- d(p$death_date)
  last <- d(p$last_contact_date)
  ends <- c(prog, death)
  pfsr_event <- any(!is.na(ends))
  pfsr_end <- if (pfsr_event) min(ends, na.rm = TRUE) else last
  data.frame(
    id = pid,
    pfs1 = as.numeric(d(ini$progression_date) - d(ini$start_date)), pfs1_event = 1,
    pfsr = as.numeric(pfsr_end - r0), pfsr_event = as.integer(pfsr_event),
    os = as.numeric(ifelse(is.na(death), last - r0, death - r0)),
    os_event = as.integer(!is.na(death)),
    ecog = ifelse(as.integer(rch$ecog) == 2, "2", "0-1"),
    pdl1 = ifelse(as.numeric(p$pdl1_tps) >= 1, "positive", "negative")
  )
})
df <- do.call(rbind, rows)
df$ecog <- factor(df$ecog, levels = c("0-1", "2"))
df$pdl1 <- factor(df$pdl1, levels = c("negative", "positive"))
options(width = 100)
cat("Derived times (days):\n")
print(df[order(df$pfsr), ], row.names = FALSE)

spss_median <- function(time, status) {
  fit <- survfit(Surv(time, status) ~ 1)
  ev <- fit$n.event > 0
  tt <- fit$time[ev]
  s <- fit$surv[ev]
  gw <- cumsum(ifelse(fit$n.risk > fit$n.event,
    fit$n.event / (fit$n.risk * (fit$n.risk - fit$n.event)), 0))[ev]
  eps <- 1e-12
  i <- which(s <= 0.5 + eps)[1]
  med <- tt[i]
  se_s <- s[i] * sqrt(gw[i])
  iu <- which(s >= 0.55 - eps)
  u <- if (length(iu)) tt[max(iu)] else 0
  su <- if (length(iu)) s[max(iu)] else 1
  il <- which(s <= 0.45 + eps)[1]
  f <- (su - s[il]) / (tt[il] - u)
  se <- se_s / f
  z <- qnorm(0.975)
  c(median = med, se = se, lower = med - z * se, upper = med + z * se) / month
}

show_km <- function(label, formula) {
  cat("\n==== ", label, " ====\n", sep = "")
  fit <- survfit(formula, data = df)
  print(fit)
  tab <- summary(fit)$table
  med <- if (is.null(dim(tab))) tab["median"] else tab[, "median"]
  cat("median in months:", format(round(med / month, 4)), "\n")
}

show_km("PFS1, all", Surv(pfs1, pfs1_event) ~ 1)
cat("SPSS-style median (months): \n")
print(round(spss_median(df$pfs1, df$pfs1_event), 4))
show_km("PFSR, all", Surv(pfsr, pfsr_event) ~ 1)
cat("SPSS-style median (months): \n")
print(round(spss_median(df$pfsr, df$pfsr_event), 4))
show_km("PFSR by ECOG PS", Surv(pfsr, pfsr_event) ~ ecog)
sd_ecog <- survdiff(Surv(pfsr, pfsr_event) ~ ecog, data = df)
print(sd_ecog)
cat(sprintf("log-rank chisq = %.6f, p = %.6f\n", sd_ecog$chisq, sd_ecog$pvalue))
cox <- coxph(Surv(pfsr, pfsr_event) ~ ecog, data = df, ties = "efron")
print(summary(cox))
cs <- summary(cox)
cat(sprintf("HR = %.4f (95%% CI %.4f-%.4f), Wald p = %.5f\n",
  cs$conf.int[1, "exp(coef)"], cs$conf.int[1, "lower .95"], cs$conf.int[1, "upper .95"],
  cs$coefficients[1, "Pr(>|z|)"]))
show_km("PFSR by PD-L1", Surv(pfsr, pfsr_event) ~ pdl1)
sd_pdl1 <- survdiff(Surv(pfsr, pfsr_event) ~ pdl1, data = df)
print(sd_pdl1)
cat(sprintf("log-rank chisq = %.6f, p = %.6f\n", sd_pdl1$chisq, sd_pdl1$pvalue))
show_km("OS, all", Surv(os, os_event) ~ 1)
