#!/usr/bin/env node
// kubectl plugin entry (`kubectl meshdbg ...`): the same CLI; help names itself `kubectl meshdbg`
// (src/hooks/init.ts reads the name kubectl ran).
import './run.js'
