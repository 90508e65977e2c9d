# Sourced by ./switchboard and .ci/run: finds a JDK 25 and exports JAVA_HOME.
# Order: $JAVA_HOME if it is 25+, then /usr/lib/jvm/*, then `java` on PATH.
switchboard_java_major() {
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

# switchboard_find_jdk [runtime]: with "runtime", a Java 25 runtime without javac will do (nothing to build).
switchboard_find_jdk() {
  local want=25 candidate major need_javac=1
  [ "${1:-}" = runtime ] && need_javac=0
  for candidate in "${JAVA_HOME:-}" /usr/lib/jvm/* /usr/java/* /opt/java/* "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")"; do
    [ -n "$candidate" ] && [ -x "$candidate/bin/java" ] || continue
    [ "$need_javac" = 0 ] || [ -x "$candidate/bin/javac" ] || continue
    major=$(switchboard_java_major "$candidate")
    if [ -n "$major" ] && [ "$major" -ge "$want" ]; then
      export JAVA_HOME="$candidate"
      return 0
    fi
  done
  echo "switchboard: no JDK $want found (looked at \$JAVA_HOME, /usr/lib/jvm/*, /usr/java/*, /opt/java/*, and java on PATH)." >&2
  echo "switchboard: install one, e.g. 'apt-get install temurin-25-jdk' (Adoptium repository) or unpack a JDK 25 and set JAVA_HOME." >&2
  return 1
}
