# Sourced by nginx's auto/make after the Makefile is written: give the
# C++ objects of this module C++ flags (nginx compiles .cpp with $(CC) and
# the C CFLAGS, so -std must be added per object, not in --with-cc-opt).

for ngx_webpush_src in $NGX_WEBPUSH_CPP_SRCS; do
    ngx_webpush_dir=`dirname $ngx_webpush_src`
    ngx_webpush_dir=`basename $ngx_webpush_dir`
    ngx_webpush_obj=`basename $ngx_webpush_src .cpp`
    ngx_webpush_obj="$NGX_OBJS/addon/$ngx_webpush_dir/$ngx_webpush_obj.o"

    echo "$ngx_webpush_obj: CFLAGS += -std=c++17 -fvisibility=hidden" \
         >> $NGX_MAKEFILE
done
