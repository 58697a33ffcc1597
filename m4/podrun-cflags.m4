# SPDX-License-Identifier: Apache-2.0
dnl PODRUN_WARN_CFLAG(FLAG): add FLAG to WARN_CFLAGS when $CC compiles a program with it and
dnl -Werror. Compilers differ in the warnings they know (clang has no -Wshadow=local) and an
dnl unknown one is itself an error under -Werror, so no flag is assumed.
AC_DEFUN([PODRUN_WARN_CFLAG], [
  AS_VAR_PUSHDEF([podrun_flag_ok], [podrun_cv_warn_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [podrun_flag_ok], [
    podrun_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
      [AS_VAR_SET([podrun_flag_ok], [yes])], [AS_VAR_SET([podrun_flag_ok], [no])])
    CFLAGS=$podrun_save_CFLAGS])
  AS_VAR_IF([podrun_flag_ok], [yes], [WARN_CFLAGS="$WARN_CFLAGS $1"])
  AS_VAR_POPDEF([podrun_flag_ok])
])
