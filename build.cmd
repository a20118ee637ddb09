@echo off
rem CnnGen build entry point for Windows (build.sh is the Linux/macOS twin). Needs only the .NET SDK 10.
rem   build.cmd build | test | pack | mnist [args] | bench [args] | predictor      (see docs\building.md)
rem Environment: CONFIGURATION (default Release), CNNGEN_ARTIFACTS_PATH (isolated output dir),
rem              CNNGEN_TEST_HANG_TIMEOUT (default 10m), CNNGEN_DATA (extra data folder for the samples).
setlocal EnableExtensions DisableDelayedExpansion
cd /d "%~dp0"

set "SLN=CnnGen.sln"
set "CONFIG=%CONFIGURATION%"
if "%CONFIG%"=="" set "CONFIG=Release"
set "HANG=%CNNGEN_TEST_HANG_TIMEOUT%"
if "%HANG%"=="" set "HANG=10m"
set DOTNET_CLI_TELEMETRY_OPTOUT=1
set DOTNET_NOLOGO=1
set DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

set "ART="
set "OUT_ROOT=%~dp0artifacts"
if "%CNNGEN_ARTIFACTS_PATH%"=="" goto :args
set ART=--artifacts-path "%CNNGEN_ARTIFACTS_PATH%"
set "OUT_ROOT=%CNNGEN_ARTIFACTS_PATH%"

:args
set "CMD=%~1"
if "%CMD%"=="" goto :usage
set "REST="
shift
:restloop
if "%~1"=="" goto :dispatch
set REST=%REST% %1
shift
goto :restloop

:dispatch
if /i "%CMD%"=="help" goto :usage
if /i "%CMD%"=="-h" goto :usage
if /i "%CMD%"=="--help" goto :usage
where dotnet >nul 2>nul
if errorlevel 1 (
  echo build.cmd: error: the .NET SDK 10 is required ^(dotnet not found on PATH^): https://dot.net 1>&2
  exit /b 1
)
if /i "%CMD%"=="build" goto :cmd_build
if /i "%CMD%"=="test" goto :cmd_test
if /i "%CMD%"=="pack" goto :cmd_pack
if /i "%CMD%"=="mnist" goto :cmd_mnist
if /i "%CMD%"=="bench" goto :cmd_bench
if /i "%CMD%"=="predictor" goto :cmd_predictor
call :usage 1>&2
echo build.cmd: error: unknown command '%CMD%' 1>&2
exit /b 1

:usage
echo Usage: build.cmd ^<command^> [args]
echo.
echo Commands:
echo   build          restore and build the solution (Release)
echo   test           restore, build and run every test project in CnnGen.sln;
echo                  ends with a line "N passed, N failed, N skipped"; fails on any failure or if no test ran
echo   pack           pack the CnnGen NuGet package into artifacts\packages\
echo   mnist [args]   train the MNIST sample (samples\Mnist); args go to the sample
echo   bench [args]   run the benchmarks (bench\CnnGen.Bench); args go to the benchmark
echo   predictor      train MNIST if mnist.safetensors is missing, then publish the Native AOT predictor
echo                  samples\MnistPredict (weights compiled in) to artifacts\predictor\mnist-predict.exe
exit /b 0

:cmd_build
call :build
exit /b %ERRORLEVEL%

:build
echo ==^> dotnet restore %SLN%
dotnet restore "%SLN%" %ART%
if errorlevel 1 exit /b 1
echo ==^> dotnet build %SLN% -c %CONFIG%
dotnet build "%SLN%" %ART% -c %CONFIG% --no-restore
if errorlevel 1 exit /b 1
exit /b 0

:cmd_test
call :build
if errorlevel 1 exit /b 1
set "RESULTS=%OUT_ROOT%\test-results"
if exist "%RESULTS%" rmdir /s /q "%RESULTS%"
mkdir "%RESULTS%"
for /f "usebackq delims=" %%p in (`dotnet sln "%SLN%" list ^| findstr /r /i "proj$"`) do call :test_one "%%p"
rem Sum the outcomes of every TRX; a project whose run failed without a failed test (crash, hang) counts as one failure.
powershell -NoProfile -ExecutionPolicy Bypass -Command "$ErrorActionPreference='Stop'; $p=0; $f=0; $s=0; $broken=@(); if (Test-Path (Join-Path $env:RESULTS 'failed-runs.txt')) { $broken = @(Get-Content (Join-Path $env:RESULTS 'failed-runs.txt') | Where-Object { $_.Trim() -ne '' }) }; foreach ($t in Get-ChildItem -Path $env:RESULTS -Filter *.trx) { [xml]$x = Get-Content -Raw $t.FullName; $nf = 0; foreach ($r in $x.TestRun.Results.UnitTestResult) { if ($r.outcome -eq 'Passed') { $p++ } elseif (@('Failed','Error','Timeout','Aborted') -contains $r.outcome) { $f++; $nf++ } else { $s++ } }; if ($nf -gt 0) { $broken = @($broken | Where-Object { $_.Trim() -ne $t.BaseName }) } }; foreach ($b in $broken) { Write-Output ('FAILED RUN: ' + $b.Trim() + ' (dotnet test failed, no failed test recorded)'); $f++ }; Write-Output ''; Write-Output ('==> test results: ' + $env:RESULTS); if ($p + $f -eq 0) { Write-Output 'no test ran' }; Write-Output ('{0} passed, {1} failed, {2} skipped' -f $p, $f, $s); if ($f -gt 0 -or $p + $f -eq 0) { exit 1 } else { exit 0 }"
exit /b %ERRORLEVEL%

:test_one
set "P=%~1"
if not exist "%P%" exit /b 0
findstr /i /c:"Microsoft.NET.Test.Sdk" /c:"<IsTestProject>true" "%P%" >nul
if errorlevel 1 exit /b 0
set "NAME=%~n1"
echo ==^> dotnet test %P%
dotnet test "%P%" %ART% -c %CONFIG% --no-build --results-directory "%RESULTS%" --logger "trx;LogFileName=%NAME%.trx" --blame-hang-timeout %HANG% --blame-hang-dump-type none
if errorlevel 1 >>"%RESULTS%\failed-runs.txt" echo %NAME%
exit /b 0

:cmd_pack
set "PKG=%~dp0artifacts\packages"
if not "%CNNGEN_ARTIFACTS_PATH%"=="" set "PKG=%OUT_ROOT%\packages"
echo ==^> dotnet pack src\Runtime -c %CONFIG% -o %PKG%
dotnet pack src\Runtime\CnnGen.Runtime.csproj %ART% -c %CONFIG% -o "%PKG%"
if errorlevel 1 exit /b 1
dir /b "%PKG%\*.nupkg"
rem The version comes from git (docs\building.md, "Versions"): each pack of changed sources has a new one.
for /f "delims=" %%F in ('dir /b /o:-d "%PKG%\CnnGen.*.nupkg"') do (
  echo ==^> newest: %PKG%\%%F
  echo ==^> use it: add %PKG% as a package source and reference that version ^(docs\building.md, "Using a local build in another project"^)
  goto :pack_done
)
:pack_done
exit /b 0

:cmd_mnist
if not exist "samples\Mnist\*.csproj" (
  echo build.cmd: error: samples\Mnist does not exist yet ^(no project file^) 1>&2
  exit /b 1
)
echo ==^> dotnet run -c %CONFIG% --project samples\Mnist --%REST%
dotnet run %ART% -c %CONFIG% --project samples\Mnist --%REST%
exit /b %ERRORLEVEL%

:cmd_bench
if not exist "bench\CnnGen.Bench\*.csproj" (
  echo build.cmd: error: bench\CnnGen.Bench does not exist yet ^(no project file^) 1>&2
  exit /b 1
)
echo ==^> dotnet run -c %CONFIG% --project bench\CnnGen.Bench --%REST%
dotnet run %ART% -c %CONFIG% --project bench\CnnGen.Bench --%REST%
exit /b %ERRORLEVEL%

rem Native AOT on Windows also needs the MSVC linker ("Desktop development with C++" in Visual Studio).
:cmd_predictor
set "WEIGHTS=%CNNGEN_MNIST_WEIGHTS%"
if "%WEIGHTS%"=="" set "WEIGHTS=%~dp0mnist.safetensors"
if exist "%WEIGHTS%" goto :predictor_publish
echo ==^> no trained weights at %WEIGHTS%: training the MNIST sample first
dotnet run %ART% -c %CONFIG% --project samples\Mnist -- --save "%WEIGHTS%" --no-plots
if errorlevel 1 exit /b 1
if not exist "%WEIGHTS%" (
  echo build.cmd: error: training did not write %WEIGHTS% 1>&2
  exit /b 1
)
:predictor_publish
set "RID=win-x64"
if /i "%PROCESSOR_ARCHITECTURE%"=="ARM64" set "RID=win-arm64"
echo ==^> dotnet publish samples\MnistPredict -c %CONFIG% -r %RID% -o %OUT_ROOT%\predictor
dotnet publish samples\MnistPredict\MnistPredict.csproj %ART% -c %CONFIG% -r %RID% -p:MnistWeights="%WEIGHTS%" -o "%OUT_ROOT%\predictor"
if errorlevel 1 exit /b 1
echo ==^> native predictor: %OUT_ROOT%\predictor\mnist-predict.exe
exit /b 0
